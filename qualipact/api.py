"""The JSON API (django-ninja): one error shape for every failure.

Errors look like {"error": {"code": "...", "message": "...", "details": ...}} with a
stable code (qualipact.web.api). The handlers here answer what a view raises; the rest
(unknown paths, wrong methods, cross-site refusals, bodies over the limit, crashes) is put
in the same shape by qualipact.web.middleware.ApiErrorMiddleware. Messages are for people:
an error's internal message goes to the log, never to the caller. OpenAPI: /api/openapi.json.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from qualipact.privacy.errors import ApplicationError
from qualipact.web.api import (
    NotJSONText,
    StrictJSONParser,
    internal_names,
    max_body_bytes,
    public_details,
    status_error,
)

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Qualipact API",
    version="1",
    description=(
        "Every error has the shape {error: {code, message, details}}. Request bodies are "
        f"JSON (RFC 8259) of at most {max_body_bytes()} bytes (larger: 413); strings are "
        "Unicode scalar values (a lone surrogate is 422)."
    ),
    urls_namespace="api",
    docs_url=None,
    parser=StrictJSONParser(),
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return api.create_response(request, body, status=status)


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    message = exc.public
    if internal_names(message):
        # A message written for logs reached the API: tell the person nothing internal.
        logger.warning("%s with an internal message answered generically", exc.code)
        message = status_error(exc.status)[1]
    details = public_details(exc.extra) if exc.public_extra else {}
    return error_response(request, exc.status, exc.code, message, details)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = [
        {"location": ".".join(str(part) for part in error.get("loc", [])), "problem": error["msg"]}
        for error in exc.errors
    ]
    return error_response(request, 422, "invalid_input", "The request is not valid", fields)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthenticated", "Missing or invalid credentials")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps a body it cannot parse in HttpError(400); say which fault it was.
    if isinstance(exc.__cause__, NotJSONText):
        return error_response(
            request, 422, "invalid_input", "The request is not valid", exc.__cause__.problems
        )
    if isinstance(exc.__cause__, ValueError):
        return error_response(request, 400, "malformed_json", "The body is not valid JSON")
    code, message = status_error(exc.status_code)
    return error_response(request, exc.status_code, code, message)


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    code, message = status_error(413)
    return error_response(request, 413, code, message, {"max_bytes": max_body_bytes()})


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found")


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", "Not allowed")


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The traceback goes to the log (through the redacting filter); the caller learns nothing.
    logger.exception("Unexpected error in an API view")
    code, message = status_error(500)
    return error_response(request, 500, code, message)


api.add_router("/preferences", "qualipact.consent.api.router")
api.add_router("/rights", "qualipact.rights.api.router")
api.add_router("/dpo", "qualipact.rights.api.dpo_router")

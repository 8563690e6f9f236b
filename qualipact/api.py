"""The JSON API (django-ninja): one error shape for every failure.

Errors look like {"error": {"code": "...", "message": "...", "details": {...}}} with a
stable code. OpenAPI: /api/openapi.json.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from qualipact.privacy.errors import ApplicationError

api = NinjaAPI(title="Qualipact API", version="1", urls_namespace="api", docs_url=None)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return api.create_response(request, body, status=status)


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.extra)


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


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found")


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", "Not allowed")


api.add_router("/preferences", "qualipact.consent.api.router")
api.add_router("/rights", "qualipact.rights.api.router")
api.add_router("/dpo", "qualipact.rights.api.dpo_router")

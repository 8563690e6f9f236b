"""HTTP helpers every JSON API shares: the one error shape, strict JSON input, and the
check that keeps internal names out of anything a person reads.

The error shape (one for every failure, whichever layer refuses the request):

    {"error": {"code": "<stable code>", "message": "<for people>", "details": {...} | [...]}}

JSON bodies are RFC 8259 text whose strings are Unicode scalar values (RFC 8259 §8.2,
RFC 3629): a lone surrogate such as "\\ud800", a NUL character or a NaN literal is refused
with 422 before any schema or service runs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.parser import Parser
from ninja.security import SessionAuth
from pydantic import Field

from qualipact.privacy.models import DataSubject

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Stable code and person-facing message for each status a layer outside the API's own
# handlers may answer with (Django's 404 and 500, a 405 from the router, a CSRF 403...).
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is not valid."),
    401: ("unauthenticated", "Missing or invalid credentials."),
    403: ("forbidden", "Not allowed."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "This conflicts with data that exists."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    422: ("invalid_input", "The request is not valid."),
    429: ("rate_limited", "Too many requests; try again later."),
    500: ("server_error", "Something went wrong on our side. Nothing was changed."),
}
GENERIC_4XX = ("bad_request", "The request could not be completed.")
GENERIC_5XX = ("server_error", "Something went wrong on our side.")


def status_error(status: int) -> tuple[str, str]:
    return STATUS_ERRORS.get(status, GENERIC_5XX if status >= 500 else GENERIC_4XX)


def max_body_bytes() -> int:
    """The largest request body accepted (Django's DATA_UPLOAD_MAX_MEMORY_SIZE); past it, 413."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


class ErrorBody(Schema):
    code: str = Field(description="Stable, machine-readable: e.g. invalid_input, not_found")
    message: str = Field(description="For people; never names internals")
    details: dict[str, Any] | list[dict[str, Any]] = Field(
        description="For `invalid_input`: a list of {location, problem}; otherwise an object"
    )


class ErrorOut(Schema):
    """The one error shape of the API."""

    error: ErrorBody


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """`response=` entries documenting an operation's errors with the one error shape."""
    return dict.fromkeys(statuses, ErrorOut)


def is_error_shape(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and isinstance(body["error"], dict)
        and set(body["error"]) == {"code", "message", "details"}
    )


def error_json(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    """The one error shape as a response, for layers outside the API's handlers."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(body, status=status)


# -- nothing internal in what a person reads --------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_REPRS = re.compile(
    r"<[\w.]+ object at 0x|\{'|\['|\(\'|\bb'|\bDecimal\(|\bUUID\(|\bdatetime\.|"
    r"Traceback \(most recent|File \"|\w+(Error|Exception)\b:|__\w+__"
)


@cache
def _model_labels() -> frozenset[str]:
    labels: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        labels.add(model._meta.label)
        labels.add(model._meta.label_lower)
    return frozenset(labels)


_LABEL = re.compile(r"\b[a-z_][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\b")


def internal_names(text: str) -> list[str]:
    """What in `text` is internal: model labels (`comms.NewsletterSignup`, with or without a
    field), UUIDs, Python reprs and tracebacks. Empty when `text` is fit for a person."""
    found = [m.group(0) for m in _LABEL.finditer(text) if m.group(0) in _model_labels()]
    found += _UUID.findall(text)
    found += [m.group(0) for m in _REPRS.finditer(text)]
    return found


def public_details(details: Any) -> Any:
    """`details` if nothing in them is internal, else an empty object."""
    text = json.dumps(details, default=str)
    return details if not internal_names(text) else {}


# -- strict JSON input ------------------------------------------------------------------


class NotJSONText(ValueError):
    """The body is JSON in form but holds what RFC 8259 text may not: lone surrogates, NaN."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("not RFC 8259 JSON text")
        self.problems = problems


def _refuse_constant(name: str) -> Any:
    raise NotJSONText([{"location": "body", "problem": f"{name} is not a JSON number"}])


def _unstorable_text(value: Any, location: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Strings no database column may hold: lone surrogates (not Unicode scalar values)
    and NUL (PostgreSQL text refuses it; Django's forms refuse it too)."""
    if isinstance(value, str):
        if problem := _text_problem(value):
            yield {"location": ".".join(location), "problem": problem}
    elif isinstance(value, dict):
        for key, item in value.items():
            if problem := _text_problem(key):
                yield {"location": ".".join(location), "problem": problem}
            else:
                yield from _unstorable_text(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_text(item, (*location, str(index)))


def _text_problem(text: str) -> str | None:
    if not is_scalar_text(text):
        return "Text must be Unicode scalar values (a lone surrogate is not one)"
    if "\x00" in text:
        return "Text may not contain the NUL character"
    return None


def is_scalar_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def scalar_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD: safe to render or encode."""
    return text if is_scalar_text(text) else _SURROGATE.sub("\ufffd", text)


class StrictJSONParser(Parser):
    """JSON bodies as RFC 8259 text: strings of Unicode scalar values without NUL, no
    NaN/Infinity."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body, parse_constant=_refuse_constant)
        problems = list(_unstorable_text(data, ("body",)))
        if problems:
            raise NotJSONText(problems)
        return data


def json_error_for(request: HttpRequest) -> bool:
    """Whether an error to this request is answered in the API's JSON shape."""
    return request.path.startswith(API_PREFIX)


def replace_with_error_shape(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An error response made outside the API's handlers, in the one shape (same status)."""
    if response.status_code < 400 or not json_error_for(request):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            if is_error_shape(json.loads(response.content)):
                return response
        except (ValueError, AttributeError):
            pass
    code, message = status_error(response.status_code)
    replaced = error_json(response.status_code, code, message)
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replaced[header] = response[header]
    return replaced


# -- who calls ---------------------------------------------------------------------------


class SignedInAuth(SessionAuth):
    """A signed-in person, known by their session; the operation receives their data
    subject as `request.auth` (anonymous: 401). Cross-site writes are refused site-wide by
    CrossOriginProtectionMiddleware, so routers pass `csrf=False`."""

    def authenticate(self, request: HttpRequest, key: str | None) -> DataSubject | None:
        user = request.user
        return user.subject if user.is_authenticated else None

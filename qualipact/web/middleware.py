"""Request and response rules that hold on every page."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from qualipact.web.api import (
    error_json,
    json_error_for,
    max_body_bytes,
    replace_with_error_shape,
    status_error,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CrossOriginProtectionMiddleware:
    """CSRF protection without a cookie, so anonymous forms set nothing in the browser.

    Browsers say where a request comes from: `Sec-Fetch-Site` (all current browsers)
    or, failing that, `Origin`. An unsafe request is refused when either says it comes
    from another site. A request with neither header is not from a browser form,
    so it cannot be a cross-site request forgery.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object
    ) -> None:
        if request.method not in SAFE_METHODS and not getattr(view, "cross_origin_allowed", False):
            self.check(request)

    @staticmethod
    def check(request: HttpRequest) -> None:
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None:
            if fetch_site in ("same-origin", "none"):
                return
            raise PermissionDenied("Cross-site request refused")
        origin = request.headers.get("Origin")
        if origin is None:
            return
        if origin == "null" or urlsplit(origin).netloc != request.get_host():
            raise PermissionDenied("Cross-origin request refused")


class PermissionsPolicyMiddleware:
    """Turn off browser features we never use (camera, geolocation, topics, ...)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def cross_origin_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let another site POST to this view: for endpoints made to be called from elsewhere
    (RFC 8058 one-click unsubscribe), whose only authority is a secret in the URL."""
    view.cross_origin_allowed = True  # type: ignore[attr-defined]
    return view


class NoEmptySessionMiddleware:
    """No session cookie for a session that holds nothing but its own expiry setting.

    allauth sets the session's expiry on every password sign-in attempt, even one that
    is refused (an account waiting for a parent's consent): that alone would make
    Django's SessionMiddleware set a cookie on a visitor who is not signed in. Placed
    just after SessionMiddleware, so it sees the response first, this empties such a
    session, and an empty session sets no cookie.
    """

    HOLDS_NOTHING = frozenset({"_session_expiry"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.modified and set(session.keys()) <= self.HOLDS_NOTHING:
            session.clear()
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that may hold personal data, decided in
    one place rather than per view (RFC 9111 §5.2.2.5).

    Personal: anything a signed-in person (session cookie) or a token holder (an
    `Authorization` header, or a link token in the URL) is sent, every API response, every
    answer to a form (it echoes what was typed), and by default any response whose view set
    no Cache-Control of its own. Only an anonymous GET of a view that chose its own caching
    keeps it. Session-authenticated responses vary on `Cookie`, token-authenticated ones
    (and every API response) on `Authorization`, so no shared cache mixes two people up.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        signed_in = self._signed_in(request)
        token = "Authorization" in request.headers or self._token_in_url(request)
        api = json_error_for(request)
        if signed_in:
            patch_vary_headers(response, ["Cookie"])
        if api or "Authorization" in request.headers:
            patch_vary_headers(response, ["Authorization"])
        personal = signed_in or token or api or request.method not in SAFE_METHODS
        chosen = response.get("Cache-Control")
        if chosen is None or (personal and "no-store" not in chosen):
            response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _signed_in(request: HttpRequest) -> bool:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return False
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)

    @staticmethod
    def _token_in_url(request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        return bool(match is not None and match.kwargs)


class ApiErrorMiddleware:
    """Every error under /api/ in the API's one JSON shape, whichever layer made it.

    The API's own handlers (qualipact/api.py) answer what the views raise. This catches
    the rest: a body over the limit (413, refused before it is read), an unknown path
    (404), a wrong method (405), a cross-site refusal (403) and an unexpected exception
    (500, logged by Django; the answer names nothing internal).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if json_error_for(request) and self._declared_length(request) > max_body_bytes():
            return error_json(413, *status_error(413), {"max_bytes": max_body_bytes()})
        return replace_with_error_shape(request, self.get_response(request))

    @staticmethod
    def _declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0

"""Request and response rules that hold on every page."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

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

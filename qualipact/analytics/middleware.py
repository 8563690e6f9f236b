"""Counts page views on the server, from what every request carries: nothing in the browser."""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from qualipact.analytics import dimensions, services
from qualipact.privacy.enforcement import may_process
from qualipact.web.people import request_subject
from qualipact.web.ratelimit import client_address

logger = logging.getLogger(__name__)

PURPOSE = "analytics"
# Namespaces whose pages are not visits to the site: the statistics themselves.
EXCLUDED_NAMESPACES = frozenset({"analytics"})
EXCLUDED_PREFIXES = ("/.well-known/",)


@dataclass(frozen=True)
class Visit:
    """What a counted request leaves behind until it is counted, then nothing."""

    ip: str
    user_agent: str
    host: str
    path: str
    referrer: str


class PageViewMiddleware:
    """Counts successful GETs of HTML pages by people who did not opt out.

    Whether a request may be counted is the purpose check's answer for the person it
    comes from (`may_process(person, "analytics")`): a GPC / DNT signal on the request,
    and for a signed-in person their objection or the signal saved on their account.

    The response is never touched: no cookie, no header, no script. The count runs
    when the server closes the response, after the page has been sent, and a failure
    is logged (without the address or user agent) and swallowed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            visit = countable_visit(request, response)
            if visit is not None:
                # Django runs these closers in response.close(), which the server calls
                # once the body is sent (the test client: right after the view). It is
                # how Django's own file responses release their files; the stubs omit it.
                response._resource_closers.append(lambda: count(visit))  # type: ignore[attr-defined]
        except Exception as exc:
            _log_failure(exc)
        return response


def countable_visit(request: HttpRequest, response: HttpResponse) -> Visit | None:
    """The visit to count, or None for anything that is not a person viewing a page."""
    if request.method != "GET" or not 200 <= response.status_code < 300:
        return None
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    match = request.resolver_match
    if match is None or EXCLUDED_NAMESPACES.intersection(match.namespaces):
        return None
    if _excluded_path(request.path):
        return None
    path = dimensions.page_route(match)
    user_agent = request.headers.get("User-Agent", "")
    if path is None or not user_agent.strip():
        return None
    # Last: the one check that may read the database (a signed-in person's choices).
    if not may_process(request_subject(request), PURPOSE):
        return None
    return Visit(
        ip=client_address(request),
        user_agent=user_agent,
        host=request.get_host(),
        path=path,
        referrer=request.headers.get("Referer", ""),
    )


def _excluded_path(path: str) -> bool:
    static = urlsplit(settings.STATIC_URL or "").path
    return path.startswith(EXCLUDED_PREFIXES) or (
        static not in ("", "/") and path.startswith(static)
    )


def count(visit: Visit) -> None:
    """Reduce the visit to its aggregate's values and count it, unless it is a bot."""
    try:
        browser = dimensions.browser_of(visit.user_agent)
        if browser.is_bot:
            return
        view = services.PageView(
            path=visit.path,
            referrer_domain=dimensions.referrer_domain(visit.referrer, site_host=visit.host),
            country=dimensions.country_of(visit.ip),
            browser=browser.family,
        )
        services.pageview_count(
            ip=visit.ip, user_agent=visit.user_agent, host=visit.host, view=view
        )
    except Exception as exc:
        _log_failure(exc)


def _log_failure(exc: Exception) -> None:
    # Only the error's type and where it happened: its message could quote the request.
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    location = f" at {where.filename}:{where.lineno}" if where else ""
    logger.error("page view not counted: %s%s", type(exc).__name__, location)

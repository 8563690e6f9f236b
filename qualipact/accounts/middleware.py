"""Session lifetime: idle and absolute timeouts, and sessions ended elsewhere.

Runs after AuthenticationMiddleware. A request without a session cookie costs nothing;
a signed-in request costs one indexed read, plus a write at most once a minute.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url

from qualipact.accounts.services import session_activity_record


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Anonymous visitors have no session key: decide before touching request.user.
        session_key = request.session.session_key
        if session_key and request.user.is_authenticated:
            ended = self._check(request, session_key)
            if ended is not None:
                return ended
        return self.get_response(request)

    def _check(self, request: HttpRequest, session_key: str) -> HttpResponse | None:
        # The policy (idle and absolute timeouts) is the service's; this only answers.
        reason = session_activity_record(session_key=session_key)
        if reason is None:
            return None
        logout(request)
        if request.method in ("GET", "HEAD"):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")
        return render(request, "accounts/session_ended.html", {"reason": reason}, status=401)

"""Session lifetime: idle and absolute timeouts, and sessions ended elsewhere.

Runs after AuthenticationMiddleware. A request without a session cookie costs nothing;
a signed-in request costs one indexed read, plus a write at most once a minute.
"""

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone

from qualipact.accounts.models import AccountSession
from qualipact.accounts.sessions import session_expire, session_key_hash

TOUCH_EVERY = timedelta(minutes=1)


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
        record = (
            AccountSession.objects.filter(session_key_hash=session_key_hash(session_key))
            .only("id", "subject_id", "signed_in_at", "last_seen_at", "ended_at")
            .first()
        )
        now = timezone.now()
        reason = None
        if record is None or record.ended_at is not None:
            reason = "ended"
        elif now - record.last_seen_at > timedelta(seconds=settings.SESSION_IDLE_SECONDS):
            reason = "idle_timeout"
        elif now - record.signed_in_at > timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS):
            reason = "absolute_timeout"
        if reason is None:
            assert record is not None
            if now - record.last_seen_at >= TOUCH_EVERY:
                AccountSession.objects.filter(pk=record.pk).update(last_seen_at=now, updated_at=now)
            return None
        if record is not None and record.ended_at is None:
            session_expire(record=record, reason=reason)
        logout(request)
        if request.method in ("GET", "HEAD"):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")
        return render(request, "accounts/session_ended.html", {"reason": reason}, status=401)

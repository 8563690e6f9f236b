from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from qualipact.consent import signals
from qualipact.consent.services import browser_signal_record


class BrowserSignalMiddleware:
    """Honour `Sec-GPC: 1` / `DNT: 1` for the whole request: purpose enforcement sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        opted_out = signals.browser_opted_out(request)
        request.privacy_signal_honoured = opted_out  # type: ignore[attr-defined]
        if opted_out:
            account_signal_record(request)
        token = signals._request_opted_out.set(opted_out)
        try:
            return self.get_response(request)
        finally:
            signals._request_opted_out.reset(token)


def account_signal_record(request: HttpRequest) -> None:
    """Signed in: write the signal on the account once (checked at most daily per person)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_child", False):
        # Children never hold consent-based purposes, so there is nothing to opt out of.
        return
    subject = getattr(user, "subject", None)
    if subject is None:
        return
    key = f"consent:signal-recorded:{subject.pk}"
    if cache.get(key):
        return
    browser_signal_record(subject=subject)
    cache.set(key, True, 86400)

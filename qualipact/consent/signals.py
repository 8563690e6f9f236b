"""Browser privacy signals: Global Privacy Control (`Sec-GPC: 1`) and Do Not Track (`DNT: 1`).

Either one is an opt-out of personalised advertising, partner sharing and analytics,
for the request that carries it. A request without the header is never read as an
opt-in (GPC spec; 11 CCR 7025).
"""

from contextvars import ContextVar

from django.core.cache import cache
from django.http import HttpRequest

# The purposes a browser signal opts out of.
SIGNAL_OPT_OUT_PURPOSES = frozenset({"personalised_ads", "partner_sharing", "analytics"})

_request_opted_out: ContextVar[bool] = ContextVar("request_opted_out", default=False)


def browser_opted_out(request: HttpRequest) -> bool:
    """True when the request carries `Sec-GPC: 1` or `DNT: 1` (exactly "1")."""
    return request.headers.get("Sec-GPC", "").strip() == "1" or (
        request.headers.get("DNT", "").strip() == "1"
    )


def current_request_opted_out() -> bool:
    """Whether the request being handled in this context sent an opt-out signal."""
    return _request_opted_out.get()


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
    from qualipact.consent.services import browser_signal_record

    browser_signal_record(subject=subject)
    cache.set(key, True, 86400)

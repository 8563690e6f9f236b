"""Browser privacy signals: Global Privacy Control (`Sec-GPC: 1`) and Do Not Track (`DNT: 1`).

Either one is an opt-out of personalised advertising, partner sharing and analytics,
for the request that carries it. A request without the header is never read as an
opt-in (GPC spec; 11 CCR 7025).
"""

from contextvars import ContextVar

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

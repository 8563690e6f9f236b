from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from qualipact.consent import signals


class BrowserSignalMiddleware:
    """Honour `Sec-GPC: 1` / `DNT: 1` for the whole request: purpose enforcement sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        opted_out = signals.browser_opted_out(request)
        request.privacy_signal_honoured = opted_out  # type: ignore[attr-defined]
        if opted_out:
            signals.account_signal_record(request)
        token = signals._request_opted_out.set(opted_out)
        try:
            return self.get_response(request)
        finally:
            signals._request_opted_out.reset(token)

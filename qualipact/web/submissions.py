"""Forms that create or change something: answered with a redirect (POST/redirect/GET), and
a repeated identical submission within a short window is recognised and not carried out
again.

Reloading a confirmation page, pressing Back and Submit, or double-clicking must never
file a second request, send a second email or create a second account. `@submitted_once`
keys each POST by the form (`scope`), who sent it (the account, or a keyed hash of the
client address for a visitor) and a keyed hash of what was sent; the first such POST is
carried out and must answer with a redirect, whose address is remembered for
SUBMISSION_WINDOW_SECONDS; an identical POST in that window is sent to the same address
without calling the view. A POST the view answers with an error page (bad input) is
forgotten, so the corrected form goes through. Nothing of what was typed is stored: only
keyed hashes, in the cache.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.web.ratelimit import client_address

# Fields that differ between two submissions of the same thing.
IGNORED_FIELDS = frozenset({"csrfmiddlewaretoken"})
PENDING = "pending"
# How long a duplicate waits for the first submission to finish (a double-click).
WAIT_SECONDS = 15.0


def _window() -> int:
    return int(settings.SUBMISSION_WINDOW_SECONDS)


def _digest(*parts: str) -> str:
    message = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def submission_key(request: HttpRequest, scope: str) -> str:
    """The cache key of this POST: form, sender, path and content, all keyed hashes."""
    user = getattr(request, "user", None)
    sender = (
        f"user:{user.pk}"
        if user is not None and user.is_authenticated
        else ("client:" + client_address(request))
    )
    fields = sorted(
        (name, value)
        for name in request.POST
        if name not in IGNORED_FIELDS
        for value in request.POST.getlist(name)
    )
    content = "\0".join(f"{name}={value}" for name, value in fields)
    return "submission:" + _digest(scope, sender, request.path, content)


def _first_answer(key: str) -> str | None:
    """Where the first identical submission was sent, waiting while it is in progress."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stored = cache.get(key)
        if stored != PENDING:
            return str(stored) if stored else None
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def submitted_once(
    scope: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Carry out an identical POST once per window; answer repeats with the first redirect.

    The view must answer a successful POST with a redirect; any other answer to a POST
    (a form with errors) is not remembered.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            key = submission_key(request, scope)
            if not cache.add(key, PENDING, timeout=_window()):
                location = _first_answer(key)
                if location:
                    return HttpResponseRedirect(location, status=303)
                # The first one failed or vanished: carry this one out.
                cache.set(key, PENDING, timeout=_window())
            try:
                response = view(request, *args, **kwargs)
            except BaseException:
                cache.delete(key)
                raise
            if response.status_code in (301, 302, 303, 307, 308):
                cache.set(key, response["Location"], timeout=_window())
            else:
                cache.delete(key)
            return response

        wrapped.submitted_once = scope  # type: ignore[attr-defined]
        return wrapped

    return decorator


def confirmation_page(template: str, *, flags: tuple[str, ...] = ()) -> Callable[..., HttpResponse]:
    """A GET page that a form redirects to after it did its work (POST/redirect/GET).

    It shows `template`; each name in `flags` is true in the template's context when the
    query string carries `<name>=1` (a child's sign-up, an erased account). Nothing else
    of the request reaches the page.
    """

    @never_cache
    @require_safe
    def page(request: HttpRequest) -> HttpResponse:
        context = {name: request.GET.get(name) == "1" for name in flags}
        return render(request, template, context)

    return page


def redirect_to(name: str, **flags: bool) -> HttpResponseRedirect:
    """303 to a confirmation page, with the flags that are true (`?child=1`)."""
    query = "&".join(f"{flag}=1" for flag, on in sorted(flags.items()) if on)
    return HttpResponseRedirect(reverse(name) + (f"?{query}" if query else ""), status=303)

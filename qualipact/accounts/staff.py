"""Staff pages need a staff account with multi-factor authentication set up.

Once an account has an authenticator app or a passkey, allauth asks for it at every
sign-in, so a staff session always passed a second factor (or a passkey) to exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Recovery codes alone do not count: they exist only next to one of these.
STRONG_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_mfa(user: Any) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=STRONG_FACTORS).exists()


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, staff, and MFA set up; otherwise sign in, refuse, or go set MFA up."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            return render(request, "accounts/staff_only.html", status=403)
        if not has_mfa(user):
            return render(request, "accounts/staff_mfa_required.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped

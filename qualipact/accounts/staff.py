"""Staff pages need a staff account with multi-factor authentication set up."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def has_mfa(user: Any) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, staff, and MFA set up; otherwise sign in, refuse, or go set MFA up."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        if not user.is_staff:
            return render(request, "accounts/staff_only.html", status=403)
        if not has_mfa(user):
            return render(request, "accounts/staff_mfa_required.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped

"""Who may open staff pages: staff with a second factor, and the roles among them.

Every staff page is wrapped in `staff_required`; pages for a role add the role's own
decorator (`dpo_required`). These live here, on the ground floor, because several
feature apps guard pages with them (accounts, rights, comms, analytics) and no feature
app may import another one's helpers sideways.

A Data Protection Officer is a staff member in the group "DPO" (created by the rights
app's migration `0002_dpo_group`) with a second factor set up, like every staff member.
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
DPO_GROUP = "DPO"


def has_mfa(user: Any) -> bool:
    """An authenticator app or a passkey is set up (recovery codes alone are not enough)."""
    return Authenticator.objects.filter(user_id=user.pk, type__in=STRONG_FACTORS).exists()


def is_dpo(user: Any) -> bool:
    """Signed in, active staff, in the DPO group, with a second factor set up."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.groups.filter(name=DPO_GROUP).exists()
        and has_mfa(user)
    )


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, staff, and MFA set up; otherwise sign in (302), refuse (403), or go set
    MFA up (403 with a link)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            return render(request, "web/roles/staff_only.html", status=403)
        if not has_mfa(user):
            return render(request, "web/roles/staff_mfa_required.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def dpo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`staff_required`, then the DPO group; other staff get a 403 page that says why."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.groups.filter(name=DPO_GROUP).exists():
            return render(request, "web/roles/dpo_only.html", status=403)
        return view(request, *args, **kwargs)

    return staff_required(wrapped)

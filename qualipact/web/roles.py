"""Who may open staff pages: staff with a second factor, and the roles among them.

The roles are the ones the field names: support agent, recruiter, Data Protection
Officer, security officer and administrator. Each is a Django group (created by the
backoffice app's migration `0001_role_groups`; the DPO's group by rights' `0002_dpo_group`)
and grants only what it needs (GDPR Art. 5(1)(f), Art. 32(4): access only for those
who need it; policy §4). Only an administrator grants roles.

Every staff page is wrapped in `role_required(...)` (or `staff_required` for pages any
staff member may open). The wrapper records the roles it lets in on the view as
`staff_roles`, so a test enumerates the URL resolver and tries every staff page with
every role. These live here, on the ground floor, because every feature app guards
pages with them and no feature app may import another one's helpers sideways.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Recovery codes alone do not count: they exist only next to one of these.
STRONG_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class Role(models.TextChoices):
    """A staff role: the value is stored in forms and audit data, the label is read."""

    SUPPORT_AGENT = "support_agent", "Support agent"
    RECRUITER = "recruiter", "Recruiter"
    DPO = "dpo", "Data Protection Officer"
    SECURITY_OFFICER = "security_officer", "Security officer"
    ADMINISTRATOR = "administrator", "Administrator"


# The group that holds each role. "DPO" predates the other roles and keeps its name.
ROLE_GROUPS: dict[Role, str] = {
    Role.SUPPORT_AGENT: "Support agent",
    Role.RECRUITER: "Recruiter",
    Role.DPO: "DPO",
    Role.SECURITY_OFFICER: "Security officer",
    Role.ADMINISTRATOR: "Administrator",
}
DPO_GROUP = ROLE_GROUPS[Role.DPO]
ALL_ROLES = frozenset(Role)
_ROLE_OF_GROUP = {group: role for role, group in ROLE_GROUPS.items()}


def has_mfa(user: Any) -> bool:
    """An authenticator app or a passkey is set up (recovery codes alone are not enough)."""
    return Authenticator.objects.filter(user_id=user.pk, type__in=STRONG_FACTORS).exists()


def is_staff_member(user: Any) -> bool:
    """Signed in, active and staff (MFA is checked separately: it has its own page)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def roles_of(user: Any) -> frozenset[Role]:
    """The roles a staff member holds (empty for anyone who is not active staff).

    Cached on the user object for the request, so a page with many checks asks once.
    """
    if not is_staff_member(user):
        return frozenset()
    cached = getattr(user, "_staff_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=ROLE_GROUPS.values()).values_list("name", flat=True)
        cached = frozenset(_ROLE_OF_GROUP[name] for name in names)
        user._staff_roles = cached
    return cached


def has_role(user: Any, role: Role) -> bool:
    """Active staff holding `role`, with a second factor set up."""
    return role in roles_of(user) and has_mfa(user)


def is_dpo(user: Any) -> bool:
    """Signed in, active staff, in the DPO group, with a second factor set up."""
    return has_role(user, Role.DPO)


def staff_roles_of(view: Callable[..., Any]) -> frozenset[Role] | None:
    """The roles a view wrapped by `role_required`/`staff_required` lets in, or None for
    a view that is not a staff page."""
    return getattr(view, "staff_roles", None)


View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed in, active staff with MFA, holding one of `roles`.

    Otherwise: sign in (302 to the login page), "staff only" (403), "set up MFA" (403
    with a link), or "not your role" (403 naming the roles that may open the page).
    With no roles given, any staff member with MFA may open the page.
    """
    allowed = frozenset(roles) or ALL_ROLES

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_staff_member(user):
                return render(request, "web/roles/staff_only.html", status=403)
            if not has_mfa(user):
                return render(request, "web/roles/staff_mfa_required.html", status=403)
            if allowed is not ALL_ROLES and not (roles_of(user) & allowed):
                return render(
                    request,
                    "web/roles/role_only.html",
                    {"roles": sorted(role.label for role in allowed)},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapped.staff_roles = allowed  # type: ignore[attr-defined]
        return wrapped

    return decorate


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any staff member with MFA (pages with no personal data, such as the console)."""
    return role_required()(view)


def dpo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`role_required(Role.DPO)`."""
    return role_required(Role.DPO)(view)


def staff_with_role(role: Role) -> list[Any]:
    """Active staff members holding `role`, oldest account first (MFA not checked: this
    is who to tell, by email, of work for the role)."""
    users = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=ROLE_GROUPS[role]
    )
    return list(users.distinct().order_by("created_at", "pk"))

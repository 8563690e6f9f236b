"""Staff and roles: the administrators' page (the staff, their roles, invitations), one
page per staff member (roles, ending access), and the invitee's page behind the emailed
link, where they choose a username and a password and go on to set up MFA."""

from __future__ import annotations

import uuid
from typing import Any

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from qualipact.backoffice import selectors, services
from qualipact.backoffice.forms import InviteAcceptForm, InviteForm, RolesForm
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.web.people import signed_in_user
from qualipact.web.roles import Role, role_required
from qualipact.web.submissions import submitted_once

administrator_only = role_required(Role.ADMINISTRATOR)
# Why an administrator sees an invitee's address: to give staff access (Art 32(4)).
VIEW_PURPOSE = "security"
DONE_MESSAGES = {
    "invited": "Invitation sent.",
    "cancelled": "Invitation cancelled.",
    "ended": "Staff access ended.",
}


def _me(request: HttpRequest) -> Any:
    return signed_in_user(request, get_user_model())


def _viewer(request: HttpRequest) -> StaffView:
    return StaffView(
        actor=Actor.staff(request.user.pk), role=Role.ADMINISTRATOR.value, purpose=VIEW_PURPOSE
    )


def _list_page(
    request: HttpRequest, *, form: InviteForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "backoffice/staff_list.html",
        {
            "members": selectors.staff_members(),
            "invites": selectors.invites_pending(viewer=_viewer(request)),
            "form": form or InviteForm(),
            "error": error,
            "done": DONE_MESSAGES.get(request.GET.get("done", ""), ""),
        },
        status=status,
    )


@never_cache
@administrator_only
@require_http_methods(["GET", "HEAD"])
def staff_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@never_cache
@administrator_only
@submitted_once("staff-invite")
@require_POST
def staff_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    try:
        services.staff_invite(
            email=form.cleaned_data["email"], roles=form.cleaned_data["roles"], by=_me(request)
        )
    except ApplicationError as exc:
        form.add_error("email" if "email" in exc.extra else None, exc.public)
        return _list_page(request, form=form, status=400)
    return redirect(reverse("backoffice:staff_list") + "?done=invited")


@never_cache
@administrator_only
@require_POST
def staff_invite_cancel(request: HttpRequest, invite_id: uuid.UUID) -> HttpResponse:
    try:
        services.staff_invite_cancel(invite_id=invite_id, by=_me(request))
    except ApplicationError as exc:
        return _list_page(request, error=exc.public, status=409)
    return redirect(reverse("backoffice:staff_list") + "?done=cancelled")


def _member_page(
    request: HttpRequest, user: Any, *, form: RolesForm, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "backoffice/staff_member.html",
        {
            "member": selectors.staff_member_row(user),
            "form": form,
            "error": error,
            "is_self": user.pk == request.user.pk,
            "saved": request.GET.get("done") == "saved",
        },
        status=status,
    )


@never_cache
@administrator_only
@require_http_methods(["GET", "HEAD", "POST"])
def staff_member(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    user = selectors.staff_member_get(user_id=user_id)
    if request.method != "POST":
        current = selectors.staff_member_row(user)
        form = RolesForm(initial={"roles": [role.value for role in current.roles]})
        return _member_page(request, user, form=form)
    form = RolesForm(request.POST)
    if not form.is_valid():
        return _member_page(request, user, form=form, status=400)
    try:
        services.staff_roles_set(user=user, roles=form.cleaned_data["roles"], by=_me(request))
    except ApplicationError as exc:
        return _member_page(request, user, form=form, error=exc.public, status=409)
    return redirect(reverse("backoffice:staff_member", args=[user.pk]) + "?done=saved")


@never_cache
@administrator_only
@require_POST
def staff_deactivate(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    user = selectors.staff_member_get(user_id=user_id)
    try:
        services.staff_deactivate(user=user, by=_me(request))
    except ApplicationError as exc:
        current = selectors.staff_member_row(user)
        form = RolesForm(initial={"roles": [role.value for role in current.roles]})
        return _member_page(request, user, form=form, error=exc.public, status=409)
    return redirect(reverse("backoffice:staff_list") + "?done=ended")


# -- the invitee, behind the emailed link (not signed in) ---------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        roles = selectors.invite_for_token(token=token)
    except ApplicationError as exc:
        return render(
            request, "backoffice/staff_invite_invalid.html", {"message": exc.public}, status=400
        )
    if request.user.is_authenticated:
        return render(request, "backoffice/staff_invite_signed_in.html", status=409)
    form = InviteAcceptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_invite_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except services.InviteInvalid as exc:
            return render(
                request,
                "backoffice/staff_invite_invalid.html",
                {"message": exc.public},
                status=400,
            )
        except ApplicationError as exc:
            form.add_error("username" if "username" in exc.extra else None, exc.public)
        else:
            # Signed in with the password just chosen, then on to the authenticator app:
            # staff pages open only with a second factor.
            activate = reverse("mfa_activate_totp")
            login = Login(user=user, redirect_url=activate)
            return perform_password_login(request, {"username": user.username}, login)
    return render(
        request,
        "backoffice/staff_invite_accept.html",
        {"form": form, "roles": [role.label for role in roles]},
        status=400 if form.is_bound else 200,
    )

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from qualipact.accounts import services
from qualipact.accounts.forms import (
    AgeGateForm,
    DeleteAccountForm,
    EmailForm,
    NewPasswordForm,
    PreferencesForm,
    SignUpForm,
    age_token_child_until,
)
from qualipact.accounts.models import Preferences, User
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.web.people import signed_in_user
from qualipact.web.ratelimit import rate_limit_exceeded
from qualipact.web.reauth import SensitiveAction, sensitive_action
from qualipact.web.submissions import redirect_to, submitted_once

GET_POST = ["GET", "HEAD", "POST"]


def _mail_flood(request: HttpRequest) -> HttpResponse | None:
    """Forms that send email to a typed address: a few per client and window, no more."""
    if rate_limit_exceeded(
        "account-mail",
        request,
        limit=settings.ACCOUNT_MAIL_RATE_LIMIT,
        window=settings.ACCOUNT_MAIL_RATE_WINDOW_SECONDS,
    ):
        return render(request, "accounts/rate_limited.html", status=429)
    return None


def _invalid_link(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(request, "accounts/invalid_link.html", {"message": error.message}, status=400)


@never_cache
@require_http_methods(GET_POST)
def sign_up(request: HttpRequest) -> HttpResponse:
    """Step one, the age gate: date of birth and country, used once and not stored."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = AgeGateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        token = form.age_token()
        _, until = age_token_child_until(token)
        details = SignUpForm(initial={"age": token}, child=until is not None)
        return render(request, "accounts/signup.html", {"form": details, "child": until})
    status = 400 if form.is_bound else 200
    return render(request, "accounts/signup_age.html", {"form": form}, status=status)


@never_cache
@submitted_once("sign-up")
@require_http_methods(["POST"])
def sign_up_details(request: HttpRequest) -> HttpResponse:
    """Step two: username, email, password (and a parent's address for a child)."""
    if flooded := _mail_flood(request):
        return flooded
    valid, until = age_token_child_until(request.POST.get("age", ""))
    if not valid:
        message = "The sign-up took too long or was changed; please start again."
        return render(
            request,
            "accounts/signup_age.html",
            {"form": AgeGateForm(), "message": message},
            status=400,
        )
    form = SignUpForm(request.POST, child=until is not None)
    if not form.is_valid():
        return render(request, "accounts/signup.html", {"form": form, "child": until}, status=400)
    data = form.cleaned_data
    try:
        # Whether the address is known is decided in the background: one answer for all.
        services.account_sign_up_later(
            username=data["username"],
            email=data["email"],
            password=data["password"],
            child_until=until,
            parent_email=data.get("parent_email") or "",
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return render(request, "accounts/signup.html", {"form": form, "child": until}, status=400)
    return redirect_to("accounts:signup_done", child=until is not None)


@never_cache
@require_http_methods(GET_POST)
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    # GET shows a button: mail scanners that follow links must not confirm anything.
    if request.method != "POST":
        return render(request, "accounts/verify_email.html")
    try:
        user = services.account_email_verify(token=token)
    except ApplicationError as exc:
        return _invalid_link(request, exc)
    return render(request, "accounts/verify_email_done.html", {"account": user})


@never_cache
# Not submitted_once: asking again sends the link again, which is what a person who
# did not get it wants; the mail rate limit bounds it.
@require_http_methods(GET_POST)
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (flooded := _mail_flood(request)):
        return flooded
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.account_verification_resend_later(email=form.cleaned_data["email"])
        return redirect_to("accounts:verify_email_resent")
    return render(
        request,
        "accounts/verify_email_resend.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@never_cache
# Not submitted_once: asking again sends a new link (see verify_email_resend).
@require_http_methods(GET_POST)
def password_reset(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (flooded := _mail_flood(request)):
        return flooded
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request_later(email=form.cleaned_data["email"])
        # The same page whether or not the address has an account.
        return redirect_to("accounts:password_reset_sent")
    return render(
        request,
        "accounts/password_reset.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(GET_POST)
def password_reset_set(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.password_reset_user(token=token)
    except ApplicationError as exc:
        return _invalid_link(request, exc)
    form = NewPasswordForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_complete(token=token, password=form.cleaned_data["password"])
        except ApplicationError as exc:
            return _invalid_link(request, exc)
        return render(request, "accounts/password_reset_done.html")
    return render(
        request,
        "accounts/password_reset_set.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@never_cache
@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request, User)
    return render(request, "accounts/home.html", {"account": user})


@never_cache
@login_required
@reauthentication_required
@require_http_methods(GET_POST)
def password_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request, User)
    form = NewPasswordForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        services.account_password_change(user=user, password=form.cleaned_data["password"])
        logout(request)
        return render(request, "accounts/password_changed.html")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@never_cache
@login_required
@sensitive_action(SensitiveAction.EMAIL_CHANGE, on_get=True)
@submitted_once("email-change")
@require_http_methods(GET_POST)
def email_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request, User)
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # The same answer whether or not the new address has an account: its holder is
        # told by email, in the background.
        services.account_email_change_request_later(user=user, new_email=form.cleaned_data["email"])
        return redirect_to("accounts:email_change_sent")
    return render(
        request,
        "accounts/email_change.html",
        {"form": form, "account": user},
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(GET_POST)
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "accounts/email_change_confirm.html")
    try:
        services.account_email_change_confirm(token=token)
    except ApplicationError as exc:
        return _invalid_link(request, exc)
    return render(request, "accounts/email_change_done.html")


@never_cache
@login_required
@require_http_methods(GET_POST)
def preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request, User)
    if user.is_child:
        # A child's account holds its email and username only; a parent manages the rest.
        return render(request, "accounts/preferences_child.html")
    current, _ = Preferences.objects.get_or_create(subject=user.subject)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=current)
    saved = request.method != "POST" and request.GET.get("saved") == "1"
    if request.method == "POST" and form.is_valid():
        services.preferences_update(user=user, channel_email=form.cleaned_data["channel_email"])
        return redirect(f"{reverse('accounts:preferences')}?saved=1")
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "saved": saved},
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@login_required
@sensitive_action(SensitiveAction.ACCOUNT_DELETION, on_get=True)
@require_http_methods(GET_POST)
def delete_account(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request, User)
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=user, actor=Actor.subject(user.subject_id))
        logout(request)
        return redirect_to("accounts:deleted")
    return render(
        request, "accounts/delete.html", {"form": form}, status=400 if form.is_bound else 200
    )

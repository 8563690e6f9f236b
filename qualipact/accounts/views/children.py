"""Pages for children's accounts: the parent's consent, the parent's dashboard, and the
deletion of accounts found to belong to a child without consent."""

from __future__ import annotations

import json
import uuid

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from qualipact.accounts import services
from qualipact.accounts.child_forms import (
    BirthDateForm,
    ChildCorrectForm,
    ConfirmForm,
    UnderageLookupForm,
    UnderageReportForm,
)
from qualipact.accounts.models import User
from qualipact.accounts.services.children import COLLECTED_FOR_CHILDREN, NEVER_FOR_CHILDREN
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.web.people import signed_in_user
from qualipact.web.reauth import SensitiveAction, sensitive_action
from qualipact.web.roles import dpo_required
from qualipact.web.submissions import redirect_to, submitted_once

GET_POST = ["GET", "HEAD", "POST"]
DELETE_LABEL = "Delete my child's account and all its data"
WITHDRAW_LABEL = "Withdraw my consent; the account is deleted"


def _child_or_404(request: HttpRequest, child_id: uuid.UUID) -> User:
    """Only a child linked to the signed-in parent; any other id is simply not found."""
    child = services.child_of(parent=signed_in_user(request, User), child_id=child_id)
    if child is None:
        raise Http404("No such child account")
    return child


# -- the parent's consent ------------------------------------------------------------------


@never_cache
@submitted_once("parental-consent")
@require_http_methods(GET_POST)
def parental_consent(request: HttpRequest, token: str) -> HttpResponse:
    """What the parent is asked to agree to; a signed-in adult consents, anyone may decline."""
    try:
        consent = services.parental_consent_for_token(token)
    except ApplicationError as exc:
        return render(request, "accounts/invalid_link.html", {"message": exc.message}, status=400)
    child = consent.subject.account
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "decline":
        services.parental_consent_decline(token=token)
        return redirect_to("accounts:parental_consent_declined")
    refusal = None
    if request.user.is_authenticated:
        refusal = services.parent_refusal(parent=signed_in_user(request, User), child=child)
    if action == "grant":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        if refusal is None:
            try:
                services.parental_consent_grant(token=token, parent=signed_in_user(request, User))
            except ApplicationError as exc:
                refusal = exc.message
            else:
                # The parent lands on their child's page, where all of it is managed.
                return redirect(f"{reverse('accounts:child_detail', args=[child.pk])}?granted=1")
    context = {
        "child": child,
        "expires_at": consent.expires_at,
        "collected": COLLECTED_FOR_CHILDREN,
        "never": NEVER_FOR_CHILDREN,
        "refusal": refusal,
        "next": request.path,
    }
    status = 400 if action == "grant" else 200
    return render(request, "accounts/children/consent.html", context, status=status)


# -- the parent's dashboard --------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def children_list(request: HttpRequest) -> HttpResponse:
    linked = services.children_of(signed_in_user(request, User))
    return render(request, "accounts/children/list.html", {"children": linked})


def _detail(request: HttpRequest, child: User, form: ChildCorrectForm, status: int) -> HttpResponse:
    collected = services.child_data_view(parent=signed_in_user(request, User), child=child)
    context = {
        "child": child,
        "data": collected.as_dict(),
        "form": form,
        "delete_form": ConfirmForm(prefix="delete", label=DELETE_LABEL),
        "withdraw_form": ConfirmForm(prefix="withdraw", label=WITHDRAW_LABEL),
        "granted": request.GET.get("granted") == "1",
    }
    return render(request, "accounts/children/detail.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def child_detail(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    child = _child_or_404(request, child_id)
    form = ChildCorrectForm(initial={"username": child.username, "email": child.email})
    return _detail(request, child, form, 200)


@never_cache
@login_required
@sensitive_action(SensitiveAction.EMAIL_CHANGE)
@submitted_once("child-correction")
@require_http_methods(["POST"])
def child_correct(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    child = _child_or_404(request, child_id)
    form = ChildCorrectForm(request.POST)
    if form.is_valid():
        try:
            services.child_data_correct(
                parent=signed_in_user(request, User),
                child=child,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("accounts:child_detail", child_id=child.pk)
    return _detail(request, child, form, 400)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def child_download(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    child = _child_or_404(request, child_id)
    document = services.child_data_export(parent=signed_in_user(request, User), child=child)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False, default=str),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="child-data-{child.pk}-{stamp}.json"'
    return response


def _confirmed_action(request: HttpRequest, child_id: uuid.UUID, *, withdraw: bool) -> HttpResponse:
    child = _child_or_404(request, child_id)
    if withdraw:
        form = ConfirmForm(request.POST, prefix="withdraw", label=WITHDRAW_LABEL)
    else:
        form = ConfirmForm(request.POST, prefix="delete", label=DELETE_LABEL)
    if not form.is_valid():
        return _detail(request, child, ChildCorrectForm(initial={"username": child.username}), 400)
    if withdraw:
        services.parental_consent_withdraw(parent=signed_in_user(request, User), child=child)
    else:
        services.child_account_delete(parent=signed_in_user(request, User), child=child)
    return redirect_to("accounts:child_deleted", withdrawn=withdraw)


@never_cache
@login_required
@sensitive_action(SensitiveAction.CHILD_DELETION)
@require_http_methods(["POST"])
def child_delete(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    return _confirmed_action(request, child_id, withdraw=False)


@never_cache
@login_required
@sensitive_action(SensitiveAction.CHILD_DELETION)
@require_http_methods(["POST"])
def child_withdraw(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    return _confirmed_action(request, child_id, withdraw=True)


# -- inadvertent collection -------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(GET_POST)
def birth_date(request: HttpRequest) -> HttpResponse:
    """The account holder corrects their date of birth; a child without consent is erased."""
    form = BirthDateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = signed_in_user(request, User)
        erased = services.birth_date_correct(
            account=user,
            birth_date=form.cleaned_data["birth_date"],
            country=form.cleaned_data["country"],
        )
        if erased:
            logout(request)
        return redirect_to("accounts:birth_date_done", erased=erased)
    status = 400 if form.is_bound else 200
    return render(request, "accounts/children/birth_date.html", {"form": form}, status=status)


UNDERAGE_OUTCOMES = frozenset(str(outcome) for outcome in services.UnderageOutcome)


@never_cache
@dpo_required
@submitted_once("underage-report")
@require_http_methods(GET_POST)
def staff_underage(request: HttpRequest) -> HttpResponse:
    """DPO: find the account, give what the report says, and only then erase it."""
    actor = Actor.staff(str(signed_in_user(request, User).pk))
    action = request.POST.get("action") if request.method == "POST" else None
    lookup = UnderageLookupForm(request.POST if action == "find" else None)
    report: UnderageReportForm | None = None
    account: User | None = None
    outcome = None
    if action == "find" and lookup.is_valid():
        account = services.underage_account_open(
            username=lookup.cleaned_data["username"], actor=actor
        )
        if account is None:
            lookup.add_error("username", "No such account.")
        else:
            report = UnderageReportForm(initial={"username": account.username})
    elif action == "report":
        report = UnderageReportForm(request.POST)
        username = str(report.data.get("username", ""))
        # Through the service that records the view: the page may show the account again.
        account = services.underage_account_open(username=username, actor=actor)
        if account is None:
            report, lookup = None, UnderageLookupForm()
            outcome = "not_found"
        elif report.is_valid():
            data = report.cleaned_data
            result = services.underage_report_apply(
                account=account,
                birth_date=data["birth_date"],
                country=data["country"],
                reason=data["reason"],
                actor=actor,
            )
            if result == services.UnderageOutcome.ADULT:
                report.add_error(
                    "birth_date",
                    "By this date of birth and country the person is not below the age "
                    "threshold; the account was kept.",
                )
            else:
                # POST/redirect/GET: the outcome is shown by the page the browser gets next.
                url = reverse("accounts:staff_underage")
                return redirect(f"{url}?{urlencode({'outcome': str(result)})}")
    if request.method != "POST" and request.GET.get("outcome") in UNDERAGE_OUTCOMES:
        outcome = request.GET["outcome"]
    failed = (report is not None and report.is_bound and report.errors) or (
        lookup.is_bound and lookup.errors
    )
    context = {"lookup": lookup, "report": report, "account": account, "outcome": outcome}
    return render(
        request,
        "accounts/children/staff_underage.html",
        context,
        status=400 if failed or outcome == "not_found" else 200,
    )

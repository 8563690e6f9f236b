"""Pages for requests about one's data: from an account, by email with a code, for a child.

A person without an account gets no cookie: the signed ticket of their request travels
in a hidden form field, never in a cookie or a URL. Anyone signed in who reaches for a
request or a child that is not theirs gets "not found", and the attempt is audited.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.accounts.selectors import account_of_subject, account_subject_id
from qualipact.accounts.services import child_of
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.rights import events, services
from qualipact.rights.forms import (
    SENSITIVE_KINDS,
    CodeForm,
    EmailRequestForm,
    ReceiptForm,
    RequestForm,
)
from qualipact.rights.models import DataRequest
from qualipact.rights.receipts import receipt_for as _receipt_token
from qualipact.rights.receipts import request_of_receipt as _request_of_receipt
from qualipact.rights.selectors import request_summary, requests_of
from qualipact.web.people import signed_in_user
from qualipact.web.ratelimit import rate_limit_exceeded
from qualipact.web.reauth import SensitiveAction, sensitive_action
from qualipact.web.submissions import submitted_once

logger = logging.getLogger(__name__)
# The account model (accounts.User), as Django names it: views reach other apps' data
# through their selectors, never their models.
User = get_user_model()
GET_POST = ["GET", "HEAD", "POST"]


def _sensitive_post(request: HttpRequest) -> bool:
    """Erasure and exports ask the person to confirm it is them (the form is replayed)."""
    return request.method == "POST" and request.POST.get("kind") in SENSITIVE_KINDS


def _rate_limited(scope: str, request: HttpRequest, *, limit: int) -> bool:
    return rate_limit_exceeded(
        scope, request, limit=limit, window=settings.RIGHTS_RATE_WINDOW_SECONDS
    )


def _submitted(data_request: DataRequest, *, verified: bool = False) -> HttpResponse:
    """POST/redirect/GET: the confirmation is a page of its own, found by the request's
    signed receipt (no personal data), so reloading it files nothing, and it still works
    for a person whose account an erasure has just deleted."""
    query = {"receipt": _receipt_token(data_request), **({"verified": "1"} if verified else {})}
    return redirect(f"{reverse('rights:submitted')}?{urlencode(query)}")


@never_cache
@require_safe
def submitted(request: HttpRequest) -> HttpResponse:
    """The confirmation of a request just made, from its receipt."""
    data_request = _request_of_receipt(request.GET.get("receipt", "")[:1000])
    if data_request is None:
        return render(request, "rights/status_invalid.html", status=400)
    user = request.user
    party = user.is_authenticated and getattr(user, "subject_id", None) in (
        data_request.subject_id,
        data_request.requested_by_id,
    )
    child = None
    if party and data_request.requested_by_id == getattr(user, "subject_id", None):
        child = account_of_subject(data_request.subject_id)
    context = {
        "data_request": data_request,
        # Reasons written for the person only to the person (the receipt may be shared).
        "summary": request_summary(data_request, reasons=bool(party)),
        "receipt_form": ReceiptForm(initial={"receipt": request.GET.get("receipt", "")}),
        "verified": request.GET.get("verified") == "1",
        "child": child,
    }
    return render(request, "rights/submitted.html", context)


def _not_theirs(
    request: HttpRequest, *, tried: uuid.UUID, target: str, subject_id: Any
) -> HttpResponse:
    """Someone signed in reached for another person's request or child: 404, audited."""
    events.request_for_other_refused_event(
        actor_subject_id=signed_in_user(request, User).subject_id,
        subject_id=subject_id,
        tried=tried,
        target=target,
    )
    return render(request, "rights/not_found.html", status=404)


# -- signed in -------------------------------------------------------------------------------


def _submit(form: RequestForm, **who: Any) -> HttpResponse | None:
    """Submit the request the valid form describes, for `who` (subject, channel, actor
    and, for a child, requested_by): the confirmation redirect, or None when the service
    refused it (the form then carries the reason)."""
    try:
        data_request = services.request_submit(
            kind=form.cleaned_data["kind"], details=form.details(), regime=form.regime, **who
        )
    except ApplicationError as error:
        form.add_service_error(error)
        return None
    return _submitted(data_request)


@never_cache
@login_required
@sensitive_action(SensitiveAction.ERASURE, SensitiveAction.EXPORT, when=_sensitive_post)
@submitted_once("rights-request")
@require_http_methods(GET_POST)
def mine(request: HttpRequest) -> HttpResponse:
    """The person's requests, and a form to make a new one."""
    user = signed_in_user(request, User)
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        submitted = _submit(
            form,
            subject=user.subject,
            channel=DataRequest.Channel.ACCOUNT,
            actor=Actor.subject(user.subject_id),
        )
        if submitted is not None:
            return submitted
    own = requests_of(subject_id=user.subject_id)
    rows = [
        {
            "request": r,
            "summary": request_summary(r),
            "for_child": r.subject_id != user.subject_id,
        }
        for r in own
    ]
    context = {"form": form, "rows": rows}
    return render(request, "rights/mine.html", context, status=400 if form.is_bound else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request, User)
    data_request = DataRequest.objects.filter(pk=request_id).first()
    if data_request is None or user.subject_id not in (
        data_request.subject_id,
        data_request.requested_by_id,
    ):
        return _not_theirs(
            request,
            tried=request_id,
            target="request",
            subject_id=data_request.subject_id if data_request else None,
        )
    context = {"data_request": data_request, "summary": request_summary(data_request)}
    return render(request, "rights/detail.html", context)


@never_cache
@login_required
@sensitive_action(SensitiveAction.ERASURE, SensitiveAction.EXPORT, when=_sensitive_post)
@submitted_once("rights-request-for-child")
@require_http_methods(GET_POST)
def child(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    """A parent's request about the account of a child linked to them."""
    parent = signed_in_user(request, User)
    account = child_of(parent=parent, child_id=child_id)
    if account is None:
        target = account_subject_id(child_id)
        return _not_theirs(request, tried=child_id, target="child", subject_id=target)
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        submitted = _submit(
            form,
            subject=account.subject,
            requested_by=parent.subject,
            channel=DataRequest.Channel.PARENT,
            actor=Actor.subject(parent.subject_id),
        )
        if submitted is not None:
            return submitted
    context = {"form": form, "child": account}
    return render(request, "rights/child.html", context, status=400 if form.is_bound else 200)


# -- without an account: by email, with a code --------------------------------------------


@never_cache
@submitted_once("rights-request-by-email")
@require_http_methods(GET_POST)
def by_email(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "rights/request.html", {"form": EmailRequestForm()})
    if _rate_limited("rights-request", request, limit=settings.RIGHTS_REQUEST_RATE_LIMIT):
        logger.warning("rights request form rate limit reached")
        return render(request, "rights/rate_limited.html", status=429)
    form = EmailRequestForm(request.POST)
    if form.is_valid():
        try:
            ticket = services.request_by_email(
                email=form.cleaned_data["email"],
                kind=form.cleaned_data["kind"],
                details=form.details(),
                regime=form.regime,
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            # The same page whether or not we know the address; a page of its own, so
            # reloading it asks for nothing again (POST/redirect/GET).
            return redirect(f"{reverse('rights:verify')}?{urlencode({'ticket': ticket})}")
    return render(request, "rights/request.html", {"form": form}, status=400)


@never_cache
@require_http_methods(GET_POST)
def verify(request: HttpRequest) -> HttpResponse:
    """The code form of a request by email (GET, found by its signed ticket), and its check."""
    if request.method != "POST":
        ticket = request.GET.get("ticket", "")[:1000]
        return render(request, "rights/code.html", {"form": CodeForm(initial={"ticket": ticket})})
    if _rate_limited("rights-verify", request, limit=settings.RIGHTS_VERIFY_RATE_LIMIT):
        logger.warning("rights code form rate limit reached")
        return render(request, "rights/rate_limited.html", status=429)
    form = CodeForm(request.POST)
    error = services.InvalidVerification().message
    if form.is_valid():
        try:
            data_request = services.request_verify(
                ticket=form.cleaned_data["ticket"], code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            error = exc.public
        else:
            return _submitted(data_request, verified=True)
    retry = CodeForm(initial={"ticket": request.POST.get("ticket", "")[:1000]})
    return render(request, "rights/code.html", {"form": retry, "error": error}, status=400)


@never_cache
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """Where a request stands, and an erasure's receipt: from the button on the
    confirmation page, which also serves a person whose account was just erased."""
    form = ReceiptForm(request.POST)
    data_request = _request_of_receipt(form.cleaned_data["receipt"]) if form.is_valid() else None
    if data_request is None:
        return render(request, "rights/status_invalid.html", status=400)
    context = {
        "data_request": data_request,
        # An erased person's reasons went with their key; the rest has no personal data.
        "summary": request_summary(data_request, reasons=False),
        "receipt_form": ReceiptForm(initial={"receipt": form.cleaned_data["receipt"]}),
    }
    return render(request, "rights/status.html", context)


# -- the export's download link --------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def download(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST hands the file over, once."""
    if request.method != "POST":
        return render(request, "rights/download.html")
    try:
        export, content = services.export_download(token=token)
    except ApplicationError as error:
        return render(request, "rights/link_error.html", {"message": error.public}, status=404)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response

"""Appeals of refused requests and evidence packages: the person's appeal form (signed
in, or by the request's status link for a person without an account), and the DPO's
list of appeals, one appeal with its decision, and the evidence PDF of a request."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.countries import country_choices
from qualipact.privacy.errors import ApplicationError
from qualipact.rights import events
from qualipact.rights.models import Appeal, DataRequest
from qualipact.rights.receipts import by_receipt, request_of_receipt
from qualipact.rights.services.appeals import (
    AppealFilter,
    appeal_decide,
    appeal_for_staff,
    appeal_make,
    appeal_possible,
    appeals_queue,
)
from qualipact.rights.services.evidence import evidence_build
from qualipact.rights.services.requests import TEXT_MAX
from qualipact.web.people import signed_in_user
from qualipact.web.roles import Role, dpo_required
from qualipact.web.submissions import submitted_once

User = get_user_model()
GET_POST = ["GET", "HEAD", "POST"]


class AppealForm(forms.Form):
    text = forms.CharField(
        label="Why do you disagree with our decision?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="In your own words. Someone who did not make the first decision reads it.",
    )
    country = forms.ChoiceField(
        label="Country where you live",
        choices=[("", "I prefer not to say"), *country_choices()],
        required=False,
        help_text="So that, if we keep our decision, we can name the authority you can turn to.",
    )
    receipt = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)


def _make(
    request: HttpRequest, data_request: DataRequest, *, actor: Actor, done: str, receipt: str = ""
) -> HttpResponse:
    """The appeal form (GET) and its submission (POST/redirect/GET to the request's page)."""
    if not appeal_possible(data_request):
        return render(request, "rights/appeal_closed.html", {"data_request": data_request})
    form = AppealForm(
        request.POST if request.method == "POST" else None, initial={"receipt": receipt}
    )
    if request.method == "POST" and form.is_valid():
        try:
            appeal_make(
                request=data_request,
                text=form.cleaned_data["text"],
                country=form.cleaned_data["country"],
                actor=actor,
            )
        except ApplicationError as error:
            form.add_error(None, error.public)
        else:
            return redirect(done)
    context = {"form": form, "data_request": data_request}
    return render(request, "rights/appeal.html", context, status=400 if form.is_bound else 200)


@never_cache
@login_required
@submitted_once("rights-appeal")
@require_http_methods(GET_POST)
def appeal(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """A signed-in person appeals the refusal of one of their requests (or their child's)."""
    user = signed_in_user(request, User)
    data_request = DataRequest.objects.filter(pk=request_id).first()
    if data_request is None or user.subject_id not in (
        data_request.subject_id,
        data_request.requested_by_id,
    ):
        events.request_for_other_refused_event(
            actor_subject_id=user.subject_id,
            subject_id=data_request.subject_id if data_request else None,
            tried=request_id,
            target="appeal",
        )
        return render(request, "rights/not_found.html", status=404)
    done = reverse("rights:detail", args=[data_request.pk]) + "?appealed=1"
    return _make(request, data_request, actor=Actor.subject(user.subject_id), done=done)


@never_cache
@submitted_once("rights-appeal-by-link")
@require_http_methods(GET_POST)
def appeal_by_link(request: HttpRequest) -> HttpResponse:
    """A person without an account appeals, from the status link their refusal email gave
    them: the signed receipt travels in the query (GET) or a hidden field (POST), never in
    a cookie."""
    source = request.POST if request.method == "POST" else request.GET
    receipt = source.get("receipt", "")[:1000]
    data_request = request_of_receipt(receipt)
    if data_request is None or not by_receipt(data_request):
        return render(request, "rights/status_invalid.html", status=400)
    done = f"{reverse('rights:submitted')}?{urlencode({'receipt': receipt, 'appealed': '1'})}"
    actor = Actor.subject(data_request.subject_id)
    return _make(request, data_request, actor=actor, done=done, receipt=receipt)


# -- the DPO's side ------------------------------------------------------------------------


class AppealFilterForm(forms.Form):
    which = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[
            (AppealFilter.OPEN, "Waiting for a decision"),
            (AppealFilter.DUE, "Due within 7 days"),
            (AppealFilter.OVERDUE, "Overdue"),
            (AppealFilter.ALL, "All, decided ones too"),
        ],
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            ("uphold", "Uphold the refusal"),
            ("grant", "Grant the appeal: take up the request again"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reasons",
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Sent to the person. Required to uphold the refusal.",
    )


def _viewer(request: HttpRequest) -> StaffView:
    return StaffView(actor=Actor.staff(str(request.user.pk)), role=Role.DPO, purpose=events.PURPOSE)


@never_cache
@dpo_required
@require_safe
def dpo_appeals(request: HttpRequest) -> HttpResponse:
    """The appeals waiting for a decision (or due soon, overdue, all), overdue first."""
    form = AppealFilterForm(request.GET)
    form.is_valid()
    which = form.cleaned_data.get("which") or AppealFilter.OPEN
    rows = appeals_queue(which=which)
    return render(request, "rights/dpo/appeals.html", {"form": form, "rows": rows})


def _appeal_page(
    request: HttpRequest, appeal_id: Any, *, form: DecideForm | None = None, status: int = 200
) -> HttpResponse:
    file = appeal_for_staff(appeal_id=appeal_id, viewer=_viewer(request))
    if file is None:
        raise Http404("No such appeal")
    context = {
        "file": file,
        "a": file.appeal,
        "r": file.appeal.request,
        "form": form or DecideForm(),
        "done": request.GET.get("done", ""),
    }
    return render(request, "rights/dpo/appeal.html", context, status=status)


@never_cache
@dpo_required
@require_safe
def dpo_appeal(request: HttpRequest, appeal_id: uuid.UUID) -> HttpResponse:
    """One appeal: the refusal, the person's words, and the decision form."""
    return _appeal_page(request, appeal_id)


@never_cache
@dpo_required
@submitted_once("dpo-appeal-decide")
@require_POST
def dpo_appeal_decide(request: HttpRequest, appeal_id: uuid.UUID) -> HttpResponse:
    appeal_row = get_object_or_404(Appeal, pk=appeal_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _appeal_page(request, appeal_id, form=form, status=400)
    try:
        appeal_decide(
            appeal=appeal_row,
            grant=form.cleaned_data["decision"] == "grant",
            reason=form.cleaned_data["reason"],
            actor=Actor.staff(str(request.user.pk)),
        )
    except ApplicationError as error:
        form.add_error(None, error.public)
        return _appeal_page(request, appeal_id, form=form, status=400)
    return redirect(reverse("rights:dpo_appeal", args=[appeal_id]) + "?done=decided")


@never_cache
@dpo_required
@require_POST
def dpo_evidence(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The request's evidence package, as a PDF attachment (never cached)."""
    data_request = get_object_or_404(DataRequest, pk=request_id)
    package = evidence_build(request=data_request, viewer=_viewer(request))
    response = HttpResponse(package.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{package.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response

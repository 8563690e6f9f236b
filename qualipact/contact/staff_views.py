"""The staff pages of contact-form messages: each queue's inbox and one message.

A support agent works the support queue, the DPO the DPO's queue; a message of another
queue does not exist for them (404), whatever URL they type. Opening a message decrypts
it through `selectors.inquiry_read`, which records the view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from qualipact.contact import selectors, services
from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.purposes import PURPOSES
from qualipact.web.roles import role_required, staff_with_role
from qualipact.web.submissions import submitted_once

View = Callable[..., HttpResponse]


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(
        label="Handled by",
        choices=[
            (selectors.Show.ALL, "Anyone or nobody"),
            (selectors.Show.UNASSIGNED, "Nobody yet"),
            (selectors.Show.MINE, "You"),
        ],
        required=False,
    )
    status = forms.ChoiceField(
        choices=[
            (selectors.STATUS_OPEN, "Open (not closed)"),
            (selectors.STATUS_ALL, "All"),
            *Inquiry.Status.choices,
        ],
        required=False,
    )


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Handled by", required=False)
    # Who handled the message on the page the form was sent from (empty: nobody).
    seen = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, rule: QueueRule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = staff_with_role(rule.role)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Nobody (unassigned)"),
            *((str(member.pk), member.username) for member in staff),
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Inquiry.Status.choices)


def _url(rule: QueueRule, page: str, *args: Any) -> str:
    return reverse(f"contact:staff_{rule.queue}_{page}", args=args)


def _inbox(request: HttpRequest, rule: QueueRule) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    form.is_valid()  # an unknown value is reported beside its field and not applied
    show = form.cleaned_data.get("show") or selectors.Show.ALL
    status = form.cleaned_data.get("status") or selectors.STATUS_OPEN
    rows = selectors.inquiry_inbox(queue=rule.queue, user=request.user, show=show, status=status)
    page = Paginator(rows, selectors.INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rule": rule,
        "form": form,
        "page": page,
        "message_url": f"contact:staff_{rule.queue}_message",
        "inbox_url": _url(rule, "inbox"),
    }
    return render(request, "contact/staff/inbox.html", context)


def _inquiry_or_404(rule: QueueRule, inquiry_id: Any) -> Inquiry:
    inquiry = selectors.inquiry_in_queue(inquiry_id=inquiry_id, queue=rule.queue)
    if inquiry is None:
        raise Http404("No such message in this queue")
    return inquiry


def _message_page(
    request: HttpRequest,
    rule: QueueRule,
    inquiry: Inquiry,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    reading = selectors.inquiry_read(inquiry=inquiry, staff=request.user)
    seen = {"seen": inquiry.assigned_to_id or ""}
    context = {
        "rule": rule,
        "r": inquiry,
        "reading": reading,
        "purpose": PURPOSES[rule.purpose].label,
        "assign_form": AssignForm(
            rule=rule, initial={**seen, "assignee": inquiry.assigned_to_id or ""}
        ),
        "seen": seen["seen"],
        "status_choices": [
            (value, label) for value, label in Inquiry.Status.choices if value != inquiry.status
        ],
        "inbox_url": _url(rule, "inbox"),
        "assign_url": _url(rule, "assign", inquiry.pk),
        "status_url": _url(rule, "status", inquiry.pk),
        "problem": problem,
        "done": "" if problem else request.GET.get("done", ""),
    }
    return render(request, "contact/staff/message.html", context, status=status)


def _message(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    return _message_page(request, rule, _inquiry_or_404(rule, inquiry_id))


def _done(rule: QueueRule, inquiry: Inquiry, what: str) -> HttpResponse:
    return redirect(f"{_url(rule, 'message', inquiry.pk)}?done={what}")


def _problem(form: forms.Form) -> str:
    """The form's errors in one sentence, each after its field's label."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        parts.append(text if name == "__all__" else f"{form.fields[name].label or name}: {text}")
    return "; ".join(parts)


def _assign(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    inquiry = _inquiry_or_404(rule, inquiry_id)
    form = AssignForm(request.POST, rule=rule)
    if not form.is_valid():
        return _message_page(request, rule, inquiry, problem=_problem(form), status=400)
    chosen = form.cleaned_data["assignee"]
    try:
        services.inquiry_assign(
            inquiry=inquiry,
            by=request.user,
            assignee_id=uuid.UUID(chosen) if chosen else None,
            seen_assignee_id=form.cleaned_data["seen"],
        )
    except ApplicationError as error:
        inquiry.refresh_from_db()
        return _message_page(request, rule, inquiry, problem=error.public, status=400)
    return _done(rule, inquiry, "assigned" if chosen else "unassigned")


def _status(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    inquiry = _inquiry_or_404(rule, inquiry_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _message_page(request, rule, inquiry, problem=_problem(form), status=400)
    try:
        services.inquiry_status_set(
            inquiry=inquiry, by=request.user, status=form.cleaned_data["status"]
        )
    except ApplicationError as error:
        inquiry.refresh_from_db()
        return _message_page(request, rule, inquiry, problem=error.public, status=400)
    return _done(rule, inquiry, form.cleaned_data["status"])


@dataclass(frozen=True)
class QueuePages:
    """The four views of one queue, each guarded by the queue's role."""

    inbox: View
    message: View
    assign: View
    status: View


def _queue_pages(queue: str) -> QueuePages:
    rule = QUEUES[queue]
    guard = role_required(rule.role)

    @never_cache
    @guard
    @require_safe
    def inbox(request: HttpRequest) -> HttpResponse:
        return _inbox(request, rule)

    @never_cache
    @guard
    @require_safe
    def message(request: HttpRequest, inquiry_id: Any) -> HttpResponse:
        return _message(request, rule, inquiry_id)

    @never_cache
    @guard
    @submitted_once(f"contact-{queue}-assign")
    @require_POST
    def assign(request: HttpRequest, inquiry_id: Any) -> HttpResponse:
        return _assign(request, rule, inquiry_id)

    @never_cache
    @guard
    @submitted_once(f"contact-{queue}-status")
    @require_POST
    def status(request: HttpRequest, inquiry_id: Any) -> HttpResponse:
        return _status(request, rule, inquiry_id)

    return QueuePages(inbox=inbox, message=message, assign=assign, status=status)


support = _queue_pages(Inquiry.Queue.SUPPORT)
dpo = _queue_pages(Inquiry.Queue.DPO)

"""The staff pages of tickets: one ticket with its thread and what staff do on it, and the
DPO's list of complaints.

A ticket's page lives under its queue's inbox (`/staff/support/<id>/`,
`/staff/dpo/messages/<id>/`, the inboxes themselves are the contact app's); a ticket of
another queue does not exist for its staff (404), whatever URL they type. Reading goes
through recording selectors (`contact.selectors.inquiry_read` for the message's fields,
`support.selectors.ticket_for_staff` for the thread and the complaint); every action is a
form posted to its own address, carried out once (`submitted_once`), answered with a
redirect back to the page and a word of what was done (`?done=`), or, when refused, with
the page again showing the error beside the field and everything that was typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from qualipact.contact import selectors as contact_selectors
from qualipact.contact import services as contact_services
from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.privacy.errors import ApplicationError, ProcessingRefused
from qualipact.privacy.purposes import PURPOSES
from qualipact.support import selectors
from qualipact.support.models import Complaint, TicketMessage
from qualipact.support.services import staff as services
from qualipact.support.services.thread import MESSAGE_MAX
from qualipact.web.forms import PageForm
from qualipact.web.roles import Role, role_required, staff_with_role
from qualipact.web.submissions import submitted_once

View = Callable[..., HttpResponse]

# What the page says after each action (`?done=<word>`).
DONE = {
    "assigned": "Saved: you handle it now, or the colleague you chose.",
    "unassigned": "Saved: nobody handles it now.",
    "received": "Reopened.",
    "answered": "Marked answered.",
    "closed": "Closed.",
    "answer_sent": "Your answer is on its way to the person, by email.",
    "logged": "The call or chat is in the thread; the person sees it on their ticket.",
    "noted": "Your note is saved. Only staff see it.",
    "acknowledged": "The person is told that their complaint is being looked into.",
    "extended": "The deadline is extended and the person is told why.",
    "decided": "The outcome is recorded, the person is told, and the ticket is closed.",
}
REFUSED = {
    ProcessingRefused.code: "This person cannot be emailed (their data may have been erased). "
    "Nothing was sent or saved.",
}


# -- forms --------------------------------------------------------------------------------


def _text_field(label: str, *, help_text: str = "", rows: int = 6) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MESSAGE_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class AssignForm(PageForm):
    assignee = forms.ChoiceField(label="Handled by", required=False)
    # Who handled the ticket on the page the form was sent from (empty: nobody).
    seen = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, rule: QueueRule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Nobody (unassigned)"),
            *((str(member.pk), member.username) for member in staff_with_role(rule.role)),
        ]


class StatusForm(PageForm):
    status = forms.ChoiceField(choices=services.TICKET_STATUSES)


class AnswerForm(PageForm):
    body = _text_field(
        "Your answer",
        help_text="Emailed to the person with the ticket's reference; they can reply to it.",
        rows=8,
    )


class LogForm(PageForm):
    kind = forms.ChoiceField(
        label="What it was",
        choices=[(kind.value, kind.label) for kind in services.LOGGED_KINDS],
        widget=forms.RadioSelect,
    )
    body = _text_field(
        "Summary", help_text="What was said. The person sees it on their ticket.", rows=4
    )


class NoteForm(PageForm):
    body = _text_field("Note", help_text="Only staff read it; never the person.", rows=3)


class ExtendForm(PageForm):
    answer_on = forms.DateField(
        label="New answer deadline",
        help_text="At most two months after the current deadline.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = _text_field(
        "Why we need more time", help_text="Emailed to the person as written.", rows=4
    )


class DecideForm(PageForm):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose…"), *Complaint.Outcome.choices],
    )
    note = _text_field(
        "Our decision, explained to the person",
        help_text="Emailed to the person with the supervisory authority they may turn to.",
    )


# -- the ticket's page --------------------------------------------------------------------


def _url(rule: QueueRule, page: str, *args: Any) -> str:
    return reverse(f"support:staff_{rule.queue}_{page}", args=args)


def _inquiry_or_404(rule: QueueRule, inquiry_id: Any) -> Any:
    inquiry = contact_selectors.inquiry_in_queue(inquiry_id=inquiry_id, queue=rule.queue)
    if inquiry is None:
        raise Http404("No such ticket in this queue")
    return inquiry


def _deadlines(shown: selectors.ComplaintForStaff | None) -> list[dict[str, Any]]:
    """A complaint's two deadlines as the page shows them: met (when), days left, or days
    late."""
    if shown is None:
        return []
    complaint = shown.complaint
    rows = []
    for name, label, due, met, left in (
        ("acknowledge", "Acknowledge by", complaint.acknowledge_by, complaint.acknowledged_at,
         shown.acknowledge_days_left),
        ("answer", "Answer by", complaint.answer_by, complaint.decided_at, shown.answer_days_left),
    ):  # fmt: skip
        late = -left if left is not None and left < 0 else 0
        rows.append(
            {"name": name, "label": label, "due": due, "met": met, "left": left, "late": late}
        )
    return rows


def _ticket_page(
    request: HttpRequest,
    rule: QueueRule,
    inquiry: Any,
    *,
    bound: dict[str, forms.Form] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    reading = contact_selectors.inquiry_read(inquiry=inquiry, staff=request.user)
    ticket = selectors.ticket_for_staff(inquiry=inquiry, staff=request.user)
    seen = str(inquiry.assigned_to_id or "")
    form_set: dict[str, forms.Form] = {
        "assign_form": AssignForm(rule=rule, initial={"seen": seen, "assignee": seen}),
        "answer_form": AnswerForm(),
        "log_form": LogForm(initial={"kind": TicketMessage.Kind.PHONE}),
        "note_form": NoteForm(),
        "extend_form": ExtendForm(),
        "decide_form": DecideForm(),
        **(bound or {}),
    }
    urls = {
        f"{page}_url": _url(rule, page, inquiry.pk)
        for page in ("ticket_assign", "ticket_status", "ticket_answer", "ticket_log", "ticket_note")
    }
    if ticket.complaint is not None:
        urls |= {
            f"{page}_url": _url(rule, page, inquiry.pk)
            for page in ("complaint_acknowledge", "complaint_extend", "complaint_decide")
        }
    done = "" if problem or bound else request.GET.get("done", "")
    context = {
        "rule": rule,
        "r": inquiry,
        "reading": reading,
        "ticket": ticket,
        "thread": ticket.thread,
        "complaint": ticket.complaint,
        "deadlines": _deadlines(ticket.complaint),
        "extension_latest": (
            services.extension_latest(ticket.complaint.complaint) if ticket.complaint else None
        ),
        "purpose": PURPOSES[rule.purpose].label,
        "seen": seen,
        "status_choices": [
            (value, label) for value, label in services.TICKET_STATUSES if value != inquiry.status
        ],
        "inbox_url": reverse(f"contact:staff_{rule.queue}_inbox"),
        "problem": problem,
        "done": DONE.get(done, ""),
        "done_code": done if done in DONE else "",
        **form_set,
        **urls,
    }
    return render(request, "support/staff/ticket.html", context, status=status)


def _done(rule: QueueRule, inquiry: Any, what: str) -> HttpResponse:
    return HttpResponseRedirect(f"{_url(rule, 'ticket', inquiry.pk)}?done={what}", status=303)


def _refused(form: forms.Form, error: ApplicationError) -> None:
    """Put the service's refusal beside the field it is about (else above the form)."""
    field = next((name for name in error.extra if name in form.fields), None)
    form.add_error(field, REFUSED.get(error.code) or error.public)


def _problem(form: forms.Form) -> str:
    """The sentence atop the page: a refusal of the whole form in full, and for fields
    with an error only their labels (each field's error is beside it, said once)."""
    whole = " ".join(str(error) for error in form.non_field_errors())
    fields = [str(form.fields[name].label or name) for name in form.errors if name != "__all__"]
    named = f"Check: {', '.join(fields)}." if fields else ""
    return " ".join(part for part in (whole, named) if part)


def _act(
    request: HttpRequest,
    rule: QueueRule,
    inquiry_id: Any,
    *,
    form_name: str,
    form: forms.Form,
    act: Callable[[Any, dict[str, Any]], str],
) -> HttpResponse:
    """Validate `form`, call `act(inquiry, cleaned_data)` (which returns the done word) and
    redirect to the page; on a refusal show the page again with the form as typed."""
    inquiry = _inquiry_or_404(rule, inquiry_id)
    if form.is_valid():
        try:
            done = act(inquiry, form.cleaned_data)
        except ApplicationError as error:
            _refused(form, error)
            inquiry.refresh_from_db()
        else:
            return _done(rule, inquiry, done)
    return _ticket_page(
        request, rule, inquiry, bound={form_name: form}, problem=_problem(form), status=400
    )


def _assign(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        chosen = data["assignee"]
        contact_services.inquiry_assign(
            inquiry=inquiry,
            by=request.user,
            assignee_id=uuid.UUID(chosen) if chosen else None,
            seen_assignee_id=data["seen"],
        )
        return "assigned" if chosen else "unassigned"

    form = AssignForm(request.POST, rule=rule)
    return _act(request, rule, inquiry_id, form_name="assign_form", form=form, act=act)


def _status(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        contact_services.inquiry_status_set(inquiry=inquiry, by=request.user, status=data["status"])
        return str(data["status"])

    return _act(
        request, rule, inquiry_id, form_name="status_form", form=StatusForm(request.POST), act=act
    )


def _answer(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.ticket_answer(inquiry=inquiry, by=request.user, body=data["body"])
        return "answer_sent"

    return _act(
        request, rule, inquiry_id, form_name="answer_form", form=AnswerForm(request.POST), act=act
    )


def _log(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.ticket_contact_log(
            inquiry=inquiry, by=request.user, kind=data["kind"], body=data["body"]
        )
        return "logged"

    return _act(
        request, rule, inquiry_id, form_name="log_form", form=LogForm(request.POST), act=act
    )


def _note(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.ticket_note_add(inquiry=inquiry, by=request.user, body=data["body"])
        return "noted"

    return _act(
        request, rule, inquiry_id, form_name="note_form", form=NoteForm(request.POST), act=act
    )


class _Empty(forms.Form):
    pass


def _acknowledge(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.complaint_acknowledge(inquiry=inquiry, by=request.user)
        return "acknowledged"

    return _act(
        request, rule, inquiry_id, form_name="acknowledge_form", form=_Empty(request.POST), act=act
    )


def _extend(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.complaint_extend(
            inquiry=inquiry, by=request.user, answer_on=data["answer_on"], reason=data["reason"]
        )
        return "extended"

    return _act(
        request, rule, inquiry_id, form_name="extend_form", form=ExtendForm(request.POST), act=act
    )


def _decide(request: HttpRequest, rule: QueueRule, inquiry_id: Any) -> HttpResponse:
    def act(inquiry: Any, data: dict[str, Any]) -> str:
        services.complaint_decide(
            inquiry=inquiry, by=request.user, outcome=data["outcome"], note=data["note"]
        )
        return "decided"

    return _act(
        request, rule, inquiry_id, form_name="decide_form", form=DecideForm(request.POST), act=act
    )


# Each action: its URL segment, its handler. The complaint's only on the DPO's queue.
TICKET_ACTIONS: dict[str, Callable[[HttpRequest, QueueRule, Any], HttpResponse]] = {
    "ticket_assign": _assign,
    "ticket_status": _status,
    "ticket_answer": _answer,
    "ticket_log": _log,
    "ticket_note": _note,
}
COMPLAINT_ACTIONS: dict[str, Callable[[HttpRequest, QueueRule, Any], HttpResponse]] = {
    "complaint_acknowledge": _acknowledge,
    "complaint_extend": _extend,
    "complaint_decide": _decide,
}


def _action_view(queue: str, name: str, handler: Callable[..., HttpResponse]) -> View:
    rule = QUEUES[queue]

    @never_cache
    @role_required(rule.role)
    @submitted_once(f"support-{queue}-{name}")
    @require_POST
    def view(request: HttpRequest, inquiry_id: Any) -> HttpResponse:
        return handler(request, rule, inquiry_id)

    view.__name__ = f"{queue}_{name}"
    return view


def _ticket_view(queue: str) -> View:
    rule = QUEUES[queue]

    @never_cache
    @role_required(rule.role)
    @require_safe
    def ticket(request: HttpRequest, inquiry_id: Any) -> HttpResponse:
        return _ticket_page(request, rule, _inquiry_or_404(rule, inquiry_id))

    ticket.__name__ = f"{queue}_ticket"
    return ticket


def queue_views(queue: str) -> dict[str, View]:
    """The views of one queue's tickets by URL name suffix: the page and its actions."""
    actions = dict(TICKET_ACTIONS)
    if queue == "dpo":
        actions |= COMPLAINT_ACTIONS
    return {
        "ticket": _ticket_view(queue),
        **{name: _action_view(queue, name, handler) for name, handler in actions.items()},
    }


# -- the DPO's complaints -----------------------------------------------------------------


class ComplaintFilterForm(forms.Form):
    show = forms.ChoiceField(
        label="Show",
        choices=[
            (selectors.ComplaintFilter.WAITING, "Waiting for an outcome"),
            (selectors.ComplaintFilter.WEEK, "Due within 7 days"),
            (selectors.ComplaintFilter.OVERDUE, "Overdue"),
            (selectors.ComplaintFilter.ALL, "All, decided ones too"),
        ],
        required=False,
    )


COMPLAINTS_PAGE_SIZE = 50


@never_cache
@role_required(Role.DPO)
@require_safe
def complaints(request: HttpRequest) -> HttpResponse:
    form = ComplaintFilterForm(request.GET)
    form.is_valid()  # an unknown value is reported beside its field and not applied
    show = form.cleaned_data.get("show") or selectors.ComplaintFilter.WAITING
    rows = selectors.complaints_for_dpo(show=show)
    page = Paginator(rows, COMPLAINTS_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    listed = [
        {
            "complaint": complaint,
            "next_days": (
                None if complaint.decided_at else selectors.days_left(complaint.next_due, now)  # type: ignore[attr-defined]
            ),
        }
        for complaint in page
    ]
    return render(
        request,
        "support/staff/complaints.html",
        {"form": form, "page": page, "rows": listed},
    )

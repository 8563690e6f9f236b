"""Staff's work on a ticket: answers, calls and chats, internal notes, a complaint's
acknowledgement, extension and outcome; the DPOs' reminders and the quiet tickets' closing.

Every service here takes the staff member acting (`by`) and checks that they work the
ticket's queue (`contact.queues.QUEUES[...].role`): a support agent the support queue, the
DPO the DPO's. Each runs in one transaction with the ticket's row locked, so two people
acting at once are served one after the other, and writes its audit event
(`support.events`) in it. Emails to the person go through the outbox (`ticket_email`): a
refusal (an erased person) rolls everything back.

Complaints (GDPR Art 12(3), Art 77): acknowledged within 7 days, answered within one
month of receipt, which the DPO may extend once by up to two further months with reasons
told to the person; the outcome names the supervisory authority of the person's country.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from qualipact.comms.services import email_queue
from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.privacy.audit import Actor
from qualipact.privacy.authorities import authority_sentence
from qualipact.privacy.errors import ApplicationError, VaultError
from qualipact.support import events
from qualipact.support.models import Complaint, InternalNote, TicketMessage
from qualipact.support.services.thread import MESSAGE_MAX
from qualipact.support.services.tickets import purpose_of, ticket_email
from qualipact.web.dates import long_date
from qualipact.web.links import site_url
from qualipact.web.roles import Role, roles_of, staff_with_role

logger = logging.getLogger(__name__)

EXTEND_AT_MOST = timedelta(days=60)  # "two further months" (Art 12(3)), counted as 60 days
REMIND_BEFORE = timedelta(days=2)  # the DPOs hear of a complaint's deadline this long before
QUIET_FOR = timedelta(days=30)  # an answered ticket nobody wrote on for this long is closed
LOGGED_KINDS = (TicketMessage.Kind.PHONE, TicketMessage.Kind.CHAT)
TICKET_STATUSES = Inquiry.Status.choices  # for staff pages, which import no other app's models


def _locked(*, inquiry: Inquiry, by: Any) -> tuple[Inquiry, QueueRule]:
    """The ticket's row, locked, and its queue, once `by` is known to work that queue."""
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    rule = QUEUES[locked.queue]
    if rule.role not in roles_of(by):
        raise ApplicationError(
            "Only staff who work this queue may act on its tickets", {"queue": "not_yours"}
        )
    return locked, rule


def _text(value: str, *, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ApplicationError(f"Write the {what}", {field: "empty"})
    if len(text) > MESSAGE_MAX:
        raise ApplicationError(
            f"The {what} may be at most {MESSAGE_MAX:,} characters", {field: "too_long"}
        )
    return text


def _complaint(inquiry: Inquiry) -> Complaint:
    complaint = Complaint.objects.select_for_update().filter(inquiry=inquiry).first()
    if complaint is None:
        raise ApplicationError("This ticket is not a complaint", {"complaint": "none"})
    return complaint


def _open_complaint(inquiry: Inquiry) -> Complaint:
    complaint = _complaint(inquiry)
    if complaint.decided_at is not None:
        raise ApplicationError(
            "The outcome of this complaint is recorded already", {"complaint": "decided"}
        )
    return complaint


def _told(complaint: Complaint | None, now: datetime) -> None:
    """Any email from us about a complaint tells the person we are looking into it."""
    if complaint is not None and complaint.acknowledged_at is None:
        complaint.acknowledged_at = now
        complaint.save(update_fields=["acknowledged_at"])


def _sent(
    *,
    inquiry: Inquiry,
    by: Any,
    subject_line: str,
    body: str,
    kind: str = TicketMessage.Kind.ANSWER,
) -> TicketMessage:
    """Email `body` to the person and keep it in the thread as said by `by`."""
    ticket_email(inquiry=inquiry, subject_line=subject_line, body=body)
    return TicketMessage.objects.create(
        inquiry=inquiry, subject_id=inquiry.subject_id, kind=kind, author=by, body=body
    )


# -- any ticket ---------------------------------------------------------------------------


@transaction.atomic
def ticket_answer(*, inquiry: Inquiry, by: Any, body: str) -> TicketMessage:
    """Send `by`'s answer to the person through the outbox (the ticket's reference in the
    subject, its reply address in Reply-To), keep it in the thread and mark the ticket
    answered; on a complaint, the first answer is its acknowledgement. Audited (1102).

    A complaint whose outcome is recorded can still be answered (the person may write
    after the decision, and is owed an answer): the outcome stays as recorded.

    ApplicationError when `by` does not work the queue, or for an empty or over-long
    answer; ProcessingRefused (nothing kept) when the person may not be written to.
    """
    locked, _rule = _locked(inquiry=inquiry, by=by)
    text = _text(body, field="body", what="answer")
    complaint = Complaint.objects.select_for_update().filter(inquiry=locked).first()
    message = _sent(inquiry=locked, by=by, subject_line="Our answer to your message", body=text)
    _told(complaint, timezone.now())
    locked.status = Inquiry.Status.ANSWERED
    locked.closed_at = None
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    events.answer_sent_event(
        inquiry=locked, actor=Actor.staff(by.pk), message_id=str(message.pk),
        purpose=purpose_of(locked),
    )  # fmt: skip
    return message


@transaction.atomic
def ticket_contact_log(*, inquiry: Inquiry, by: Any, kind: str, body: str) -> TicketMessage:
    """Keep in the thread a summary of a phone call or a chat (`kind`: PHONE or CHAT) `by`
    had with the person; the person sees it on their ticket. Nothing is emailed and the
    status does not change. Audited (1103).

    ApplicationError for another kind, an empty or over-long summary, or a `by` who does
    not work the queue.
    """
    if kind not in LOGGED_KINDS:
        raise ApplicationError("Log a phone call or a chat", {"kind": "invalid"})
    locked, _rule = _locked(inquiry=inquiry, by=by)
    text = _text(body, field="body", what="summary")
    message = TicketMessage.objects.create(
        inquiry=locked, subject_id=locked.subject_id, kind=kind, author=by, body=text
    )
    locked.save(update_fields=["updated_at"])
    events.contact_logged_event(
        inquiry=locked, actor=Actor.staff(by.pk), message_id=str(message.pk), kind=kind,
        purpose=purpose_of(locked),
    )  # fmt: skip
    return message


@transaction.atomic
def ticket_note_add(*, inquiry: Inquiry, by: Any, body: str) -> InternalNote:
    """Add `by`'s internal note to the ticket: staff of its queue read it; the person
    never does (not on their page, not in their export). Audited (1104)."""
    locked, _rule = _locked(inquiry=inquiry, by=by)
    text = _text(body, field="body", what="note")
    note = InternalNote.objects.create(
        inquiry=locked, subject_id=locked.subject_id, author=by, body=text
    )
    events.note_added_event(
        inquiry=locked, actor=Actor.staff(by.pk), note_id=str(note.pk), purpose=purpose_of(locked)
    )
    return note


# -- complaints ---------------------------------------------------------------------------

ACKNOWLEDGEMENT = (
    "Hello {name},\n\n"
    "Our Data Protection Officer has your complaint and is looking into it. We will "
    "answer you by {answer_by}; if we need longer, we will tell you why before "
    "then."
)


@transaction.atomic
def complaint_acknowledge(*, inquiry: Inquiry, by: Any, now: datetime | None = None) -> Complaint:
    """Tell the person their complaint is being looked into, with the date of the answer
    (within 7 days of receipt: Art 12(3)); kept in the thread. Audited (1150).

    ApplicationError when it is not a complaint, is acknowledged or decided already, or
    `by` is not a DPO.
    """
    now = now or timezone.now()
    locked, _rule = _locked(inquiry=inquiry, by=by)
    complaint = _open_complaint(locked)
    if complaint.acknowledged_at is not None:
        raise ApplicationError(
            "This complaint is acknowledged already", {"complaint": "acknowledged"}
        )
    body = ACKNOWLEDGEMENT.format(name=locked.name, answer_by=long_date(complaint.answer_by))
    message = _sent(
        inquiry=locked, by=by, subject_line="We are looking into your complaint", body=body
    )
    _told(complaint, now)
    locked.save(update_fields=["updated_at"])
    events.complaint_acknowledged_event(
        inquiry=locked, actor=Actor.staff(by.pk), message_id=str(message.pk),
        purpose=purpose_of(locked),
    )  # fmt: skip
    return complaint


def extension_latest(complaint: Complaint) -> datetime:
    """The latest an extension may set the answer's deadline to: two months after the
    deadline it replaces."""
    return complaint.answer_by + EXTEND_AT_MOST


@transaction.atomic
def complaint_extend(
    *, inquiry: Inquiry, by: Any, answer_on: date, reason: str, now: datetime | None = None
) -> Complaint:
    """Move the complaint's answer deadline to the day `answer_on` (at the current
    deadline's time of day), at most two months after the current one, once, and email
    the person `reason` and the new date (Art 12(3)); kept in the thread. The DPOs will be
    reminded of the new deadline. Audited (1111).

    ApplicationError for a day not after the current deadline or past the two months, an
    empty reason, a complaint extended or decided already, or a `by` who is not a DPO.
    """
    now = now or timezone.now()
    locked, _rule = _locked(inquiry=inquiry, by=by)
    complaint = _open_complaint(locked)
    if complaint.extended_at is not None:
        raise ApplicationError(
            "This complaint's deadline was extended already; it can be extended once",
            {"complaint": "extended"},
        )
    text = _text(reason, field="reason", what="reason")
    answer_by = datetime.combine(answer_on, complaint.answer_by.timetz())
    if answer_by <= complaint.answer_by or answer_by <= now:
        raise ApplicationError(
            "The new deadline must be after the current one", {"answer_on": "not_later"}
        )
    if answer_by > extension_latest(complaint):
        raise ApplicationError(
            "The deadline may be extended by two months at most", {"answer_on": "too_late"}
        )
    body = (
        f"Hello {locked.name},\n\n"
        f"We need more time to answer your complaint properly. We will answer you by "
        f"{long_date(answer_by)}, instead of {long_date(complaint.answer_by)}, because:\n\n"
        f"{text}"
    )
    _sent(inquiry=locked, by=by, subject_line="We need more time for your complaint", body=body)
    complaint.answer_by = answer_by
    complaint.extended_at = now
    complaint.extension_reason = text
    complaint.reminded_at = None  # the new deadline gets its own reminder
    complaint.save(update_fields=["answer_by", "extended_at", "extension_reason", "reminded_at"])
    _told(complaint, now)
    locked.save(update_fields=["updated_at"])
    events.complaint_extended_event(
        inquiry=locked, actor=Actor.staff(by.pk), purpose=purpose_of(locked)
    )
    return complaint


@transaction.atomic
def complaint_decide(
    *, inquiry: Inquiry, by: Any, outcome: str, note: str, now: datetime | None = None
) -> Complaint:
    """Record the complaint's outcome (`outcome`: a `Complaint.Outcome` value) with `note`,
    the DPO's explanation, email both to the person with where they may complain
    (`privacy.authorities.authority_sentence` for their country), and close the ticket.
    Audited (1112).

    ApplicationError for an unknown outcome, an empty note, a complaint decided already,
    or a `by` who is not a DPO.
    """
    now = now or timezone.now()
    if outcome not in Complaint.Outcome.values:
        raise ApplicationError("Choose an outcome", {"outcome": "invalid"})
    locked, _rule = _locked(inquiry=inquiry, by=by)
    complaint = _open_complaint(locked)
    text = _text(note, field="note", what="explanation")
    body = (
        f"Hello {locked.name},\n\n"
        f"We have finished looking into your complaint. Our decision: "
        f"{Complaint.Outcome(outcome).label}.\n\n"
        f"{text}\n\n"
        "If you are not satisfied with our answer: "
        f"{authority_sentence(complaint.country or None)}"
    )
    _sent(inquiry=locked, by=by, subject_line="Our decision on your complaint", body=body)
    complaint.outcome = outcome
    complaint.outcome_note = text
    complaint.decided_at = now
    complaint.decided_by = by
    complaint.save(update_fields=["outcome", "outcome_note", "decided_at", "decided_by"])
    _told(complaint, now)
    locked.status = Inquiry.Status.CLOSED
    locked.closed_at = now
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    events.complaint_decided_event(
        inquiry=locked, actor=Actor.staff(by.pk), outcome=outcome, purpose=purpose_of(locked)
    )
    return complaint


# -- periodic work ------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDeadline:
    """One complaint deadline the DPOs are reminded of: `deadline` is "acknowledge" or
    "answer"."""

    complaint: Complaint
    deadline: str
    due: datetime


def _reminded_for(complaint: Complaint, due: datetime) -> bool:
    # One field serves both deadlines: a reminder sent within the window of a deadline
    # (from REMIND_BEFORE ahead of it) was sent for it. The windows of the two never
    # meet (7 and 30 days after receipt); an extension clears it for the new deadline.
    return complaint.reminded_at is not None and complaint.reminded_at >= due - REMIND_BEFORE


def complaint_deadlines_due(*, now: datetime) -> list[DueDeadline]:
    """The complaint deadlines not met, due within REMIND_BEFORE of `now` (or passed),
    whose reminder has not been sent; soonest first."""
    soon = now + REMIND_BEFORE
    complaints = (
        Complaint.objects.filter(decided_at__isnull=True)
        .filter(Q(acknowledged_at__isnull=True, acknowledge_by__lte=soon) | Q(answer_by__lte=soon))
        .select_related("inquiry")
        .only(
            "id", "subject_id", "inquiry_id", "acknowledge_by", "answer_by", "acknowledged_at",
            "reminded_at", "decided_at", "inquiry__id", "inquiry__subject_id", "inquiry__kind",
        )
    )  # fmt: skip
    due = []
    for complaint in complaints:
        acknowledge = complaint.acknowledged_at is None and complaint.acknowledge_by <= soon
        if acknowledge and not _reminded_for(complaint, complaint.acknowledge_by):
            due.append(DueDeadline(complaint, "acknowledge", complaint.acknowledge_by))
        if complaint.answer_by <= soon and not _reminded_for(complaint, complaint.answer_by):
            due.append(DueDeadline(complaint, "answer", complaint.answer_by))
    return sorted(due, key=lambda item: item.due)


def _reminder_body(due: DueDeadline, now: datetime) -> str:
    complaint = due.complaint
    what = "acknowledged" if due.deadline == "acknowledge" else "answered"
    when = (
        f"was due on {long_date(due.due)} at {due.due:%H:%M} UTC and is OVERDUE"
        if due.due < now
        else f"is due by {long_date(due.due)} at {due.due:%H:%M} UTC"
    )
    return (
        f"Complaint {complaint.inquiry.reference} must be {what}: it {when}.\n\n"
        f"Open it: {site_url('support:staff_dpo_ticket', complaint.inquiry_id)}\n"
        f"Every complaint and its deadlines: {site_url('support:staff_complaints')}\n"
    )


def _dpos_email(*, subject_line: str, body: str) -> int:
    """Email every active DPO (references and dates only); returns how many were queued."""
    sent = 0
    for dpo in staff_with_role(Role.DPO):
        try:
            address = dpo.email
        except VaultError:
            address = None
        if not address:
            continue  # no readable address (an erased staff member): nobody to tell
        email_queue(
            subject=dpo.subject, to=str(address), subject_line=subject_line, body=body,
            purpose="data_subject_rights",
        )  # fmt: skip
        sent += 1
    return sent


def complaint_reminders_send(*, now: datetime | None = None) -> int:
    """Email every active DPO of each complaint deadline (acknowledgement, answer) that
    falls within two days, or has passed, and is not met, once per deadline; the complaint
    keeps when (`reminded_at`). Audited per deadline (1113). Returns the number of
    deadlines reminded of. Each complaint in its own transaction."""
    now = now or timezone.now()
    reminded = 0
    for due in complaint_deadlines_due(now=now):
        with transaction.atomic():
            complaint = Complaint.objects.select_for_update().get(pk=due.complaint.pk)
            if complaint.decided_at is not None or _reminded_for(complaint, due.due):
                continue  # decided or reminded meanwhile
            if due.deadline == "acknowledge" and complaint.acknowledged_at is not None:
                continue
            inquiry = due.complaint.inquiry
            what = "acknowledge" if due.deadline == "acknowledge" else "answer"
            sent = _dpos_email(
                subject_line=f"Complaint {inquiry.reference}: {what} by {long_date(due.due)}",
                body=_reminder_body(due, now),
            )
            if not sent:
                logger.warning("complaint reminder: no DPO to email")
                continue
            complaint.reminded_at = now
            complaint.save(update_fields=["reminded_at"])
            events.complaint_reminder_sent_event(
                inquiry=inquiry, deadline=due.deadline, purpose=purpose_of(inquiry)
            )
            reminded += 1
    return reminded


def tickets_quiet(*, now: datetime) -> list[Inquiry]:
    """Answered tickets nobody wrote on (no message, call or chat) for QUIET_FOR, whose
    last word was ours; a complaint waits for its outcome instead."""
    since = now - QUIET_FOR
    return list(
        Inquiry.objects.filter(status=Inquiry.Status.ANSWERED)
        .filter(Q(complaint__isnull=True) | Q(complaint__decided_at__isnull=False))
        .annotate(last=Greatest("created_at", Coalesce(Max("thread__created_at"), "created_at")))
        .filter(last__lt=since)
        .only("id", "status", "subject_id", "created_at")
    )


def tickets_close_quiet(*, now: datetime | None = None) -> int:
    """Close every answered ticket with no message for 30 days (its two years' retention
    starts); one event for the run (1121). Returns how many were closed."""
    now = now or timezone.now()
    ids = [inquiry.pk for inquiry in tickets_quiet(now=now)]
    if not ids:
        return 0
    with transaction.atomic():
        # Only those still answered once locked: a reply meanwhile reopened the ticket.
        locked = (
            Inquiry.objects.select_for_update()
            .filter(pk__in=ids, status=Inquiry.Status.ANSWERED)
            .only("id", "status", "closed_at", "updated_at", "subject_id")
        )
        closed = 0
        for inquiry in locked:
            inquiry.status = Inquiry.Status.CLOSED
            inquiry.closed_at = now
            inquiry.save(update_fields=["status", "closed_at", "updated_at"])
            closed += 1
        if closed:
            events.tickets_closed_quiet_event(count=closed)
    return closed

"""Reads of a ticket's thread, for the person and for staff.

The thread is the first message (the inquiry) followed by everything said after it, in
time order; staff also see internal notes, the person never does. Decrypting happens
here, for one ticket at a time: a person sees their own ticket; a staff page records its
view through `privacy.access.StaffView` itself.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, Max, Prefetch, Q, QuerySet, When
from django.utils import timezone

from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.authorities import (
    EDPB_MEMBERS_URL,
    Authority,
    authority_for,
    authority_sentence,
)
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.tokens import token_hash
from qualipact.support.models import (
    Attachment,
    Complaint,
    Feedback,
    InternalNote,
    TicketLink,
    TicketMessage,
)
from qualipact.web.roles import roles_of


@dataclass(frozen=True)
class FileShown:
    id: uuid.UUID
    filename: str
    content_type: str
    size: int  # bytes


@dataclass(frozen=True)
class ThreadEntry:
    """One entry of a thread as a page shows it. `kind` is a `TicketMessage.Kind` value,
    "opening" (the first message) or "note" (internal, staff only); `who` says who
    wrote it in words ("You", "Support team", a staff member's username for staff)."""

    kind: str
    kind_label: str
    who: str
    body: str
    at: datetime
    from_person: bool
    internal: bool = False
    # An email reply sent from another address than the ticket's: the sentence that
    # marks it, for staff or for the person ("" for everything else).
    sender_warning: str = ""
    files: list[FileShown] = field(default_factory=list)


# How the person's page names what they wrote (staff pages use the kinds' own labels).
PERSON_KIND_LABELS: dict[str, str] = {
    TicketMessage.Kind.EMAIL_IN.value: "By email",
    TicketMessage.Kind.SITE_IN.value: "On this site",
}
SENDER_WARNING_STAFF = "sent from another address than the ticket's"
SENDER_WARNING_PERSON = (
    "sent from an address other than yours: if you did not write this, reply to tell us"
)


def _kind_label(kind: str, *, for_staff: bool) -> str:
    label = str(TicketMessage.Kind(kind).label)
    return label if for_staff else PERSON_KIND_LABELS.get(kind, label)


def thread_of(*, inquiry: Inquiry, for_staff: bool) -> list[ThreadEntry]:
    """The ticket's thread, oldest first, decrypted: the opening message, the messages
    after it with their files (names and sizes, not content) and, `for_staff`, the
    internal notes. Three queries whatever the length."""
    person = "The person" if for_staff else "You"
    entries = [
        ThreadEntry(
            kind="opening",
            kind_label="Message through the contact form",
            who=person,
            body=inquiry.message,
            at=inquiry.created_at,
            from_person=True,
        )
    ]
    messages = (
        TicketMessage.objects.filter(inquiry=inquiry)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.defer("content"),
            )
        )
    )
    for message in messages:
        if message.from_person and message.sender_matches is False:
            who = "Another address"  # to the ticket's reply address, not from its sender
        elif message.from_person:
            who = person
        elif for_staff and message.author is not None:
            who = message.author.get_username()
        else:
            who = "Support team" if inquiry.queue == Inquiry.Queue.SUPPORT else "Our DPO"
        entries.append(
            ThreadEntry(
                kind=message.kind,
                kind_label=_kind_label(message.kind, for_staff=for_staff),
                who=who,
                body=message.body,
                at=message.created_at,
                from_person=message.from_person,
                sender_warning=(
                    ""
                    if message.sender_matches is not False
                    else SENDER_WARNING_STAFF
                    if for_staff
                    else SENDER_WARNING_PERSON
                ),
                files=[
                    FileShown(a.pk, a.filename, a.content_type, a.size)
                    for a in message.attachments.all()
                ],
            )
        )
    if for_staff:
        for note in InternalNote.objects.filter(inquiry=inquiry).select_related("author"):
            entries.append(
                ThreadEntry(
                    kind="note",
                    kind_label="Internal note (never shown to the person)",
                    who=note.author.get_username() if note.author else "A former staff member",
                    body=note.body,
                    at=note.created_at,
                    from_person=False,
                    internal=True,
                )
            )
        entries.sort(key=lambda entry: entry.at)
    return entries


def _sent_signed_in_by(subject_id: uuid.UUID) -> QuerySet[Inquiry]:
    """The tickets a person sent signed in to their account: the only ones their own
    pages show. One sent by a visitor who typed the person's address stays the address's
    subject's (exports, erasure, retention) but is reached only by its emailed links and
    by email: a typed address proves nothing about who typed it."""
    return Inquiry.objects.filter(subject_id=subject_id, sent_signed_in=True)


def tickets_of_subject(*, subject_id: uuid.UUID) -> list[Inquiry]:
    """The tickets a person sent signed in, newest first, without decrypting anything."""
    return list(
        _sent_signed_in_by(subject_id)
        .only("id", "kind", "status", "queue", "created_at", "updated_at", "subject_id")
        .order_by("-created_at")
    )


# -- the person's pages -----------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    """One line of "Your messages": the ticket's subject line decrypted (for its owner's
    own page), and when anything last happened on it."""

    id: uuid.UUID
    reference: str
    subject_line: str
    kind_label: str
    status: str
    status_label: str
    last_activity: datetime


def ticket_rows_of_subject(*, subject_id: uuid.UUID) -> list[TicketRow]:
    """The tickets the person sent signed in, for their own page, newest activity first:
    one query (the last message's time is an aggregate), then the subject lines under the
    person's key."""
    inquiries = (
        _sent_signed_in_by(subject_id)
        .annotate(last_message_at=Max("thread__created_at"))
        .order_by("-created_at")
    )
    rows = [
        TicketRow(
            id=inquiry.pk,
            reference=inquiry.reference,
            subject_line=inquiry.subject_line,
            kind_label=Inquiry.Kind(inquiry.kind).label,
            status=inquiry.status,
            status_label=Inquiry.Status(inquiry.status).label,
            last_activity=max(
                moment
                for moment in (inquiry.updated_at, inquiry.last_message_at)
                if moment is not None
            ),
        )
        for inquiry in inquiries
    ]
    return sorted(rows, key=lambda row: row.last_activity, reverse=True)


def ticket_of_subject(*, subject_id: uuid.UUID, ticket_id: uuid.UUID) -> Inquiry | None:
    """The person's ticket `ticket_id`, sent signed in, or None when it is not theirs, was
    not sent signed in, or does not exist."""
    return _sent_signed_in_by(subject_id).filter(pk=ticket_id).first()


@dataclass(frozen=True)
class ComplaintShown:
    """A complaint's handling as the person reads it, with the authority they may turn to
    (`authority` None: the general EDPB sentence applies, `authority_sentence`)."""

    acknowledge_by: datetime
    answer_by: datetime
    acknowledged_at: datetime | None
    extended: bool
    extension_reason: str
    outcome_label: str
    outcome_note: str
    decided_at: datetime | None
    authority: Authority | None
    authority_sentence: str
    edpb_members_url: str = EDPB_MEMBERS_URL


@dataclass(frozen=True)
class TicketShown:
    """Everything the person's page of one ticket shows. Never an internal note."""

    id: uuid.UUID
    reference: str
    subject_line: str
    kind_label: str
    status: str
    status_label: str
    created_at: datetime
    thread: list[ThreadEntry]
    complaint: ComplaintShown | None
    feedback_score: int | None
    feedback_comment: str
    may_rate: bool  # there is an answer to rate (`answer_given`)


def answer_given(*, inquiry: Inquiry) -> bool:
    """Whether we have answered the ticket at least once (an emailed answer, or a phone
    call or chat we logged): from then on the person may rate our answer, even while a
    later message of theirs waits for the next one."""
    return (
        TicketMessage.objects.filter(inquiry=inquiry)
        .exclude(kind__in=TicketMessage.FROM_PERSON)
        .exists()
    )


def ticket_for_person(*, inquiry: Inquiry) -> TicketShown:
    """The ticket as its owner sees it, decrypted: the thread without internal notes
    (`thread_of(for_staff=False)`), a complaint's deadlines, outcome and supervisory
    authority, and their rating if they gave one."""
    complaint = Complaint.objects.filter(inquiry=inquiry).first()
    feedback = Feedback.objects.filter(inquiry=inquiry).first()
    shown = None
    if complaint is not None:
        shown = ComplaintShown(
            acknowledge_by=complaint.acknowledge_by,
            answer_by=complaint.answer_by,
            acknowledged_at=complaint.acknowledged_at,
            extended=complaint.extended_at is not None,
            extension_reason=complaint.extension_reason or "",
            outcome_label=(Complaint.Outcome(complaint.outcome).label if complaint.outcome else ""),
            outcome_note=complaint.outcome_note or "",
            decided_at=complaint.decided_at,
            authority=authority_for(complaint.country or None),
            authority_sentence=authority_sentence(complaint.country or None),
        )
    return TicketShown(
        id=inquiry.pk,
        reference=inquiry.reference,
        subject_line=inquiry.subject_line,
        kind_label=Inquiry.Kind(inquiry.kind).label,
        status=inquiry.status,
        status_label=Inquiry.Status(inquiry.status).label,
        created_at=inquiry.created_at,
        thread=thread_of(inquiry=inquiry, for_staff=False),
        complaint=shown,
        feedback_score=feedback.score if feedback else None,
        feedback_comment=(feedback.comment or "") if feedback else "",
        may_rate=answer_given(inquiry=inquiry),
    )


def ticket_of_link(*, token: str) -> Inquiry | None:
    """The ticket an emailed link was for, spent or expired alike (None: no such link):
    the page of a used link offers to email a fresh one to that ticket's address."""
    link = (
        TicketLink.objects.select_related("inquiry")
        .filter(token_hash=token_hash(token), kind=TicketLink.Kind.EMAILED)
        .first()
    )
    return link.inquiry if link is not None else None


# -- staff: one ticket, and the DPO's complaints --------------------------------------------


@dataclass(frozen=True)
class ComplaintForStaff:
    """A complaint as the DPO sees it on its ticket: the row (dates, outcome), the
    supervisory authority of the person's country (None: we know none for it) and, for
    each deadline, the days left (negative: overdue) while it is not met."""

    complaint: Complaint
    authority: Authority | None
    acknowledge_days_left: int | None
    answer_days_left: int | None


@dataclass(frozen=True)
class TicketForStaff:
    """What a ticket's staff page shows after the message's fields: its thread with the
    internal notes, for a complaint its handling, and the person's rating of the answer
    (None: not rated)."""

    thread: list[ThreadEntry]
    complaint: ComplaintForStaff | None
    feedback: Feedback | None = None


def days_left(due: datetime, now: datetime) -> int:
    """Days from `now` until `due`, a part day counted whole: 7 while under 7 days
    remain, down to 1 in the last day; once `due` has passed, minus the days late, a part
    day counted whole (-1 in the first day late); 0 exactly at `due`."""
    seconds = (due - now).total_seconds()
    whole = seconds / 86400
    return math.ceil(whole) if seconds > 0 else math.floor(whole)


def _complaint_shown(complaint: Complaint | None, now: datetime) -> ComplaintForStaff | None:
    if complaint is None:
        return None
    decided = complaint.decided_at is not None
    return ComplaintForStaff(
        complaint=complaint,
        authority=authority_for(complaint.country or None),
        acknowledge_days_left=(
            None
            if decided or complaint.acknowledged_at is not None
            else days_left(complaint.acknowledge_by, now)
        ),
        answer_days_left=None if decided else days_left(complaint.answer_by, now),
    )


@transaction.atomic
def ticket_for_staff(
    *, inquiry: Inquiry, staff: Any, now: datetime | None = None
) -> TicketForStaff:
    """The ticket's thread after its first message (which the page shows among the
    message's fields) with its internal notes, and its complaint, decrypted for
    `staff`, who acts in the role of the ticket's queue and for its purpose. Records one
    staff view (event 111) per kind of record shown (messages, notes, file names, the
    complaint's fields that hold a value). ApplicationError when `staff` does not work the
    queue (pages check it first)."""
    rule = QUEUES[inquiry.queue]
    if rule.role not in roles_of(staff):
        raise ApplicationError("Only staff who work this queue may read it", {"queue": "not_yours"})
    # The first message is on the page already, among the fields `inquiry_read` shows.
    thread = [e for e in thread_of(inquiry=inquiry, for_staff=True) if e.kind != "opening"]
    complaint = Complaint.objects.filter(inquiry=inquiry).select_related("decided_by").first()
    viewer = StaffView(actor=Actor.staff(staff.pk), role=rule.role, purpose=rule.purpose)
    messages = [e for e in thread if not e.internal]
    notes = [e for e in thread if e.internal]
    files = [f for e in thread for f in e.files]
    for model, fields, count in (
        ("support.TicketMessage", ["body"], len(messages)),
        ("support.InternalNote", ["body"], len(notes)),
        ("support.Attachment", ["filename"], len(files)),
    ):
        if count:
            viewer.record(subject=inquiry.subject_id, model=model, fields=fields, records=count)
    if complaint is not None:
        shown = [
            name
            for name in ("country", "extension_reason", "outcome", "outcome_note")
            if getattr(complaint, name)
        ]
        if shown:
            viewer.record(subject=inquiry.subject_id, model="support.Complaint", fields=shown)
    feedback = Feedback.objects.filter(inquiry=inquiry).first()
    if feedback is not None:
        rated = ["score", "comment"] if feedback.comment else ["score"]
        viewer.record(subject=inquiry.subject_id, model="support.Feedback", fields=rated)
    return TicketForStaff(
        thread=thread,
        complaint=_complaint_shown(complaint, now or timezone.now()),
        feedback=feedback,
    )


class ComplaintFilter(StrEnum):
    """Which complaints the DPO's list shows."""

    WAITING = "waiting"  # no outcome yet
    WEEK = "week"  # no outcome, the next deadline within 7 days (not passed)
    OVERDUE = "overdue"  # no outcome, a deadline passed
    ALL = "all"


COMPLAINTS_SOON = timedelta(days=7)


def _next_due() -> Case:
    """The complaint's next deadline not met: the acknowledgement's until it is made (it
    always comes first), then the answer's."""
    return Case(
        When(acknowledged_at__isnull=True, then=F("acknowledge_by")),
        default=F("answer_by"),
    )


def complaints_for_dpo(
    *, show: str = ComplaintFilter.WAITING, now: datetime | None = None
) -> QuerySet[Complaint]:
    """Complaints, next deadline first (decided ones last, newest first), with their
    ticket's id, reference, status and receipt: nothing is decrypted (the country, the
    reasons and the outcome are not on the list). `next_due` is annotated.
    ApplicationError for an unknown filter. One query."""
    if show not in ComplaintFilter.__members__.values():
        raise ApplicationError("Unknown filter", {"show": "unknown"})
    now = now or timezone.now()
    rows = (
        Complaint.objects.select_related("inquiry")
        .only(
            "id", "subject_id", "inquiry_id", "acknowledge_by", "answer_by", "acknowledged_at",
            "extended_at", "decided_at", "created_at", "inquiry__id", "inquiry__status",
            "inquiry__created_at", "inquiry__queue",
        )
        .annotate(next_due=_next_due())
    )  # fmt: skip
    if show != ComplaintFilter.ALL:
        rows = rows.filter(decided_at__isnull=True)
    if show == ComplaintFilter.WEEK:
        rows = rows.filter(next_due__gte=now, next_due__lte=now + COMPLAINTS_SOON)
    elif show == ComplaintFilter.OVERDUE:
        rows = rows.filter(next_due__lt=now)
    return rows.order_by(F("decided_at").desc(nulls_first=True), "next_due", "pk")


@dataclass(frozen=True)
class ComplaintCounts:
    """Complaints without an outcome whose next deadline is within 7 days, and those
    with a deadline passed."""

    week: int
    overdue: int


def complaint_counts(*, now: datetime | None = None) -> ComplaintCounts:
    """What waits for the DPO on the console; one query."""
    now = now or timezone.now()
    counts = (
        Complaint.objects.filter(decided_at__isnull=True)
        .annotate(next_due=_next_due())
        .aggregate(
            week=Count("pk", filter=Q(next_due__gte=now, next_due__lte=now + COMPLAINTS_SOON)),
            overdue=Count("pk", filter=Q(next_due__lt=now)),
        )
    )
    return ComplaintCounts(week=counts["week"], overdue=counts["overdue"])

"""Reads of a ticket's thread, for the person and for staff.

The thread is the first message (the inquiry) followed by everything said after it, in
time order; staff also see internal notes, the person never does. Decrypting happens
here, for one ticket at a time: a person sees their own ticket; a staff page records its
view through `privacy.access.StaffView` itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max, Prefetch

from qualipact.contact.models import Inquiry
from qualipact.privacy.authorities import (
    EDPB_MEMBERS_URL,
    Authority,
    authority_for,
    authority_sentence,
)
from qualipact.privacy.tokens import token_hash
from qualipact.support.models import (
    Attachment,
    Complaint,
    Feedback,
    InternalNote,
    TicketLink,
    TicketMessage,
)


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
    sender_matches: bool | None = None
    files: list[FileShown] = field(default_factory=list)


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
        if message.from_person:
            who = person
        elif for_staff and message.author is not None:
            who = message.author.get_username()
        else:
            who = "Support team" if inquiry.queue == Inquiry.Queue.SUPPORT else "Our DPO"
        entries.append(
            ThreadEntry(
                kind=message.kind,
                kind_label=TicketMessage.Kind(message.kind).label,
                who=who,
                body=message.body,
                at=message.created_at,
                from_person=message.from_person,
                sender_matches=message.sender_matches if for_staff else None,
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


def tickets_of_subject(*, subject_id: uuid.UUID) -> list[Inquiry]:
    """A person's tickets, newest first, without decrypting anything."""
    return list(
        Inquiry.objects.filter(subject_id=subject_id)
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
    """The person's tickets for their own page, newest activity first: one query (the
    last message's time is an aggregate), then the subject lines under the person's key."""
    inquiries = (
        Inquiry.objects.filter(subject_id=subject_id)
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
    """The person's ticket `ticket_id`, or None when it is not theirs (or does not exist)."""
    return Inquiry.objects.filter(pk=ticket_id, subject_id=subject_id).first()


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
    may_rate: bool  # answered or closed: there is an answer to rate


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
        may_rate=inquiry.status in (Inquiry.Status.ANSWERED, Inquiry.Status.CLOSED),
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

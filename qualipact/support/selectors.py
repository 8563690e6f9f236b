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

from django.db.models import Prefetch

from qualipact.contact.models import Inquiry
from qualipact.support.models import Attachment, InternalNote, TicketMessage


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

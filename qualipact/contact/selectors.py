"""Reads of contact-form messages for staff: each queue's inbox, its counts for the
console, and one message decrypted for the person who handles it.

Listing never decrypts. Opening a message decrypts only the fields the registry declares
for the queue's purpose (contact/privacy.py) and records that staff view in the same
transaction (`privacy.access.StaffView`, audit event 111), so the person sees who read
their message and why (GDPR Art. 15(1)(c), Art. 5(1)(c) and 5(2); policy §4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.registry import ResolvedField, registry
from qualipact.web.roles import roles_of

INBOX_PAGE_SIZE = 50
MODEL_LABEL = "contact.Inquiry"


class Show(StrEnum):
    """Whose messages an inbox lists."""

    UNASSIGNED = "unassigned"
    MINE = "mine"
    ALL = "all"


STATUS_OPEN = "open"  # received or answered: not closed
STATUS_ALL = "all"
STATUS_FILTERS = (STATUS_OPEN, STATUS_ALL, *Inquiry.Status.values)
# "Open" named status by status: the count of a page then reads only the open entries of
# the (queue, status) index, not every entry of the queue ("not closed" would).
OPEN_STATUSES = tuple(value for value in Inquiry.Status.values if value != Inquiry.Status.CLOSED)


def inquiry_inbox(
    *, queue: str, user: Any, show: str = Show.ALL, status: str = STATUS_OPEN
) -> QuerySet[Inquiry]:
    """The messages of `queue` (an `Inquiry.Queue` value), newest first, as rows that carry
    no encrypted column: id, kind, status, received, assignee and their username only.

    `show` narrows to unassigned messages or to those assigned to `user`; `status` to open
    (not closed) messages, all, or one `Inquiry.Status`. ApplicationError for an unknown
    filter. One query per page, whatever the number of rows.
    """
    if show not in Show.__members__.values():
        raise ApplicationError("Unknown filter", {"show": "unknown"})
    if status not in STATUS_FILTERS:
        raise ApplicationError("Unknown status filter", {"status": "unknown"})
    rows = (
        Inquiry.objects.filter(queue=queue)
        .select_related("assigned_to")
        .only(
            "id",
            "kind",
            "status",
            "queue",
            "created_at",
            "assigned_at",
            "assigned_to",
            "assigned_to__username",
        )
    )
    if show == Show.UNASSIGNED:
        rows = rows.filter(assigned_to__isnull=True)
    elif show == Show.MINE:
        rows = rows.filter(assigned_to=user.pk)
    if status == STATUS_OPEN:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status != STATUS_ALL:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "pk")


@dataclass(frozen=True)
class InboxCounts:
    """Open (not closed) messages of one queue nobody handles, and those `user` handles."""

    unassigned: int
    mine: int


def inquiry_inbox_counts(*, queue: str, user: Any) -> InboxCounts:
    """What waits in `queue` for the console; one query."""
    counts = (
        Inquiry.objects.filter(queue=queue)
        .exclude(status=Inquiry.Status.CLOSED)
        .aggregate(
            unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
            mine=Count("pk", filter=Q(assigned_to=user.pk)),
        )
    )
    return InboxCounts(unassigned=counts["unassigned"], mine=counts["mine"])


def inquiry_in_queue(*, inquiry_id: uuid.UUID, queue: str) -> Inquiry | None:
    """The message `inquiry_id` if it belongs to `queue`, else None (a message of another
    queue is, for this queue's staff, a message that does not exist). Decrypts nothing."""
    return Inquiry.objects.filter(pk=inquiry_id, queue=queue).select_related("assigned_to").first()


def queue_fields(rule: QueueRule) -> list[ResolvedField]:
    """The Inquiry fields the registry declares for the queue's purpose, in declaration
    order; secrets (the email lookup code) are never shown."""
    declaration = registry.get(Inquiry)
    assert declaration is not None, "contact.Inquiry is declared in contact/privacy.py"
    return [
        spec
        for spec in declaration.fields.values()
        if rule.purpose in spec.purposes and not spec.secret
    ]


@dataclass(frozen=True)
class ShownField:
    name: str
    label: str
    value: str | None


@dataclass(frozen=True)
class InquiryReading:
    """One message as its handler sees it: the row (for its non-personal columns) and the
    decrypted fields of the queue's purpose, each with its registry label (None: not
    given)."""

    inquiry: Inquiry
    rule: QueueRule
    fields: list[ShownField]


@transaction.atomic
def inquiry_read(*, inquiry: Inquiry, staff: Any) -> InquiryReading:
    """Decrypt `inquiry` for the staff member `staff`, who acts in the role of its queue:
    only the fields declared for the queue's purpose. Records one staff view (event 111)
    naming the fields that held a value, with the role and the purpose.

    ApplicationError when `staff` does not hold the queue's role (pages check it first).
    """
    rule = QUEUES[inquiry.queue]
    if rule.role not in roles_of(staff):
        raise ApplicationError("Only staff who work this queue may read it", {"queue": "not_yours"})
    fields = [
        ShownField(name=spec.name, label=spec.label, value=getattr(inquiry, spec.name))
        for spec in queue_fields(rule)
    ]
    viewer = StaffView(actor=Actor.staff(staff.pk), role=rule.role, purpose=rule.purpose)
    viewer.record(
        subject=inquiry.subject_id,
        model=MODEL_LABEL,
        fields=[field.name for field in fields if field.value not in (None, "")],
    )
    return InquiryReading(inquiry=inquiry, rule=rule, fields=fields)

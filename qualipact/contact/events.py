"""The contact app's audit events: one function per event, codes 300-399.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Events hold ids and codes only, never what was written.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.contact.models import Inquiry
    from qualipact.privacy.models import AuditEvent


class ContactCode(IntEnum):
    """Stored codes of the contact app. Never renumber; only add."""

    INQUIRY_SUBMITTED = 300
    INQUIRY_ASSIGNED = 301
    INQUIRY_UNASSIGNED = 302
    INQUIRY_STATUS_CHANGED = 303


audit_codes_register(owner="contact", codes=ContactCode, span=range(300, 400))


def inquiry_submitted_event(*, inquiry: Inquiry, purpose: str) -> AuditEvent:
    """300: the person wrote to us, signed in or not (`signed_in`); `purpose` is the one
    their kind of inquiry is handled for."""
    return audit_log(
        code=ContactCode.INQUIRY_SUBMITTED,
        actor=Actor.subject(inquiry.subject_id),
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={
            "inquiry_id": str(inquiry.pk),
            "kind": inquiry.kind,
            "signed_in": inquiry.sent_signed_in,
        },
    )


def inquiry_assigned_event(
    *, inquiry: Inquiry, actor: Actor, assignee_id: uuid.UUID, purpose: str
) -> AuditEvent:
    """301: a staff member (`actor`) gave the message to the staff member `assignee_id`
    (themself or a colleague holding the queue's role)."""
    return audit_log(
        code=ContactCode.INQUIRY_ASSIGNED,
        actor=actor,
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={
            "inquiry_id": str(inquiry.pk),
            "queue": inquiry.queue,
            "assignee_id": str(assignee_id),
        },
    )


def inquiry_unassigned_event(
    *, inquiry: Inquiry, actor: Actor, previous_id: uuid.UUID, purpose: str
) -> AuditEvent:
    """302: a staff member (`actor`) took the message back from `previous_id` and left it
    unassigned."""
    return audit_log(
        code=ContactCode.INQUIRY_UNASSIGNED,
        actor=actor,
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={
            "inquiry_id": str(inquiry.pk),
            "queue": inquiry.queue,
            "previous_id": str(previous_id),
        },
    )


def inquiry_status_changed_event(
    *, inquiry: Inquiry, actor: Actor, previous: str, purpose: str
) -> AuditEvent:
    """303: a staff member (`actor`) marked the message answered or closed, or reopened it;
    `previous` is the status it had (an `Inquiry.Status` value)."""
    return audit_log(
        code=ContactCode.INQUIRY_STATUS_CHANGED,
        actor=actor,
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={
            "inquiry_id": str(inquiry.pk),
            "queue": inquiry.queue,
            "previous": previous,
            "status": inquiry.status,
        },
    )

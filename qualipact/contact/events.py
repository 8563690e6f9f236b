"""The contact app's audit events: one function per event, codes 300-399.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Events hold ids and codes only, never what was written.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.contact.models import Inquiry
    from qualipact.privacy.models import AuditEvent


class ContactCode(IntEnum):
    """Stored codes of the contact app. Never renumber; only add."""

    INQUIRY_SUBMITTED = 300


audit_codes_register(owner="contact", codes=ContactCode, span=range(300, 400))


def inquiry_submitted_event(*, inquiry: Inquiry, purpose: str) -> AuditEvent:
    """300: the person wrote to us; `purpose` is the one their kind of inquiry is handled for."""
    return audit_log(
        code=ContactCode.INQUIRY_SUBMITTED,
        actor=Actor.subject(inquiry.subject_id),
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={"inquiry_id": str(inquiry.pk), "kind": inquiry.kind},
    )

"""The support app's audit events: one function per event, codes 1100-1199.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Events hold ids and codes only, never what was written.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.contact.models import Inquiry
    from qualipact.privacy.models import AuditEvent


class SupportCode(IntEnum):
    """Stored codes of the support app. Never renumber; only add."""

    TICKET_ACKNOWLEDGED = 1100
    MESSAGE_RECEIVED = 1101
    ANSWER_SENT = 1102
    CONTACT_LOGGED = 1103
    NOTE_ADDED = 1104
    FEEDBACK_GIVEN = 1105
    LINK_SENT = 1106
    LINK_OPENED = 1107
    COMPLAINT_OPENED = 1110
    COMPLAINT_EXTENDED = 1111
    COMPLAINT_DECIDED = 1112
    COMPLAINT_REMINDER_SENT = 1113
    # Staff's work on tickets: 1150-1169.
    COMPLAINT_ACKNOWLEDGED = 1150
    EMAIL_REFUSED = 1120
    TICKETS_CLOSED_QUIET = 1121
    TICKET_FOR_OTHER_REFUSED = 1170


audit_codes_register(owner="support", codes=SupportCode, span=range(1100, 1200))


def _event(
    code: SupportCode, *, inquiry: Inquiry, actor: Actor, purpose: str, **data: Any
) -> AuditEvent:
    return audit_log(
        code=code,
        actor=actor,
        subject_id=inquiry.subject_id,
        purpose=purpose,
        data={"inquiry_id": str(inquiry.pk), **data},
    )


def ticket_acknowledged_event(*, inquiry: Inquiry, purpose: str) -> AuditEvent:
    """1100: the sender was sent the acknowledgement with the ticket's reference."""
    return _event(
        SupportCode.TICKET_ACKNOWLEDGED, inquiry=inquiry, actor=Actor.system("support"),
        purpose=purpose,
    )  # fmt: skip


def message_received_event(
    *, inquiry: Inquiry, message_id: str, kind: str, purpose: str
) -> AuditEvent:
    """1101: the person wrote again, by email or on the site (`kind`)."""
    return _event(
        SupportCode.MESSAGE_RECEIVED,
        inquiry=inquiry,
        actor=Actor.subject(inquiry.subject_id),
        purpose=purpose,
        message_id=message_id,
        kind=kind,
    )


def answer_sent_event(
    *, inquiry: Inquiry, actor: Actor, message_id: str, purpose: str
) -> AuditEvent:
    """1102: a staff member answered; the answer went to the outbox."""
    return _event(
        SupportCode.ANSWER_SENT, inquiry=inquiry, actor=actor, purpose=purpose,
        message_id=message_id,
    )  # fmt: skip


def contact_logged_event(
    *, inquiry: Inquiry, actor: Actor, message_id: str, kind: str, purpose: str
) -> AuditEvent:
    """1103: a staff member logged a phone call or a chat (`kind`) on the ticket."""
    return _event(
        SupportCode.CONTACT_LOGGED, inquiry=inquiry, actor=actor, purpose=purpose,
        message_id=message_id, kind=kind,
    )  # fmt: skip


def note_added_event(*, inquiry: Inquiry, actor: Actor, note_id: str, purpose: str) -> AuditEvent:
    """1104: a staff member added an internal note."""
    return _event(
        SupportCode.NOTE_ADDED, inquiry=inquiry, actor=actor, purpose=purpose, note_id=note_id
    )


def feedback_given_event(*, inquiry: Inquiry, score: int, purpose: str) -> AuditEvent:
    """1105: the person rated the answer (`score`, 1 to 5)."""
    return _event(
        SupportCode.FEEDBACK_GIVEN, inquiry=inquiry, actor=Actor.subject(inquiry.subject_id),
        purpose=purpose, score=score,
    )  # fmt: skip


def link_sent_event(*, inquiry: Inquiry, actor: Actor, link_id: str, purpose: str) -> AuditEvent:
    """1106: a link opening the ticket was emailed to its address."""
    return _event(
        SupportCode.LINK_SENT, inquiry=inquiry, actor=actor, purpose=purpose, link_id=link_id
    )


def link_opened_event(*, inquiry: Inquiry, link_id: str, purpose: str) -> AuditEvent:
    """1107: an emailed link was opened (and is spent)."""
    return _event(
        SupportCode.LINK_OPENED, inquiry=inquiry, actor=Actor.subject(inquiry.subject_id),
        purpose=purpose, link_id=link_id,
    )  # fmt: skip


def complaint_opened_event(*, inquiry: Inquiry, purpose: str) -> AuditEvent:
    """1110: a complaint's deadlines started (Art 12(3))."""
    return _event(
        SupportCode.COMPLAINT_OPENED, inquiry=inquiry, actor=Actor.system("support"),
        purpose=purpose,
    )  # fmt: skip


def complaint_extended_event(*, inquiry: Inquiry, actor: Actor, purpose: str) -> AuditEvent:
    """1111: the DPO extended the answer's deadline, with reasons told to the person."""
    return _event(SupportCode.COMPLAINT_EXTENDED, inquiry=inquiry, actor=actor, purpose=purpose)


def complaint_decided_event(
    *, inquiry: Inquiry, actor: Actor, outcome: str, purpose: str
) -> AuditEvent:
    """1112: the DPO recorded the complaint's outcome."""
    return _event(
        SupportCode.COMPLAINT_DECIDED, inquiry=inquiry, actor=actor, purpose=purpose,
        outcome=outcome,
    )  # fmt: skip


def complaint_reminder_sent_event(*, inquiry: Inquiry, deadline: str, purpose: str) -> AuditEvent:
    """1113: the DPOs were reminded of a complaint's deadline (`deadline`: which one)."""
    return _event(
        SupportCode.COMPLAINT_REMINDER_SENT, inquiry=inquiry, actor=Actor.system("support"),
        purpose=purpose, deadline=deadline,
    )  # fmt: skip


def email_refused_event(*, reason: str) -> AuditEvent:
    """1120: an email to a reply address was not taken into any ticket (`reason`: a
    code such as "unknown_address"); nothing of it is kept."""
    return audit_log(
        code=SupportCode.EMAIL_REFUSED,
        actor=Actor.system("support_inbound"),
        subject_id=None,
        purpose="customer_support",
        data={"reason": reason},
    )


def tickets_closed_quiet_event(*, count: int) -> AuditEvent:
    """1121: answered tickets with no reply for the quiet period were closed (`count`)."""
    return audit_log(
        code=SupportCode.TICKETS_CLOSED_QUIET,
        actor=Actor.system("support"),
        subject_id=None,
        purpose="customer_support",
        data={"count": count},
    )


def ticket_for_other_refused_event(
    *, actor_subject_id: uuid.UUID, owner_subject_id: uuid.UUID | None, tried: uuid.UUID
) -> AuditEvent:
    """1170: someone signed in reached for a ticket that is not theirs on the site
    (another's, or one not sent signed in; `tried`: the id asked for; the event names its
    owner when it exists) and was answered "not found"."""
    return audit_log(
        code=SupportCode.TICKET_FOR_OTHER_REFUSED,
        actor=Actor.subject(actor_subject_id),
        subject_id=owner_subject_id,
        purpose="customer_support",
        data={"id": str(tried)},
    )


def complaint_acknowledged_event(
    *, inquiry: Inquiry, actor: Actor, message_id: str, purpose: str
) -> AuditEvent:
    """1150: the DPO told the person their complaint is being looked into (Art 12(3))."""
    return _event(
        SupportCode.COMPLAINT_ACKNOWLEDGED, inquiry=inquiry, actor=actor, purpose=purpose,
        message_id=message_id,
    )  # fmt: skip

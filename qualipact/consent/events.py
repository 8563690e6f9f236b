"""The consent app's audit events: one function per event, codes 400-499.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. The purpose of a ledger event is the purpose the person
granted, withdrew or objected to.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.consent.models import ConsentEvent
    from qualipact.privacy.models import AuditEvent


class ConsentCode(IntEnum):
    """Stored codes of the consent app. Never renumber; only add."""

    CONSENT_GRANTED = 400
    CONSENT_WITHDRAWN = 401
    OBJECTION_RECORDED = 402
    OBJECTION_WITHDRAWN = 403
    CONSENT_WORDING_PUBLISHED = 404


audit_codes_register(owner="consent", codes=ConsentCode, span=range(400, 500))


def _ledger_event(code: ConsentCode, event: ConsentEvent, actor: Actor) -> AuditEvent:
    return audit_log(
        code=code,
        actor=actor,
        subject_id=event.subject_id,
        purpose=event.purpose,
        data={"event_id": str(event.pk), "channel": event.channel},
    )


def consent_granted_event(*, event: ConsentEvent, actor: Actor) -> AuditEvent:
    """400: consent given (Art 6(1)(a)); `event` is the ledger row."""
    return _ledger_event(ConsentCode.CONSENT_GRANTED, event, actor)


def consent_withdrawn_event(*, event: ConsentEvent, actor: Actor) -> AuditEvent:
    """401: consent withdrawn (Art 7(3)); `event` is the ledger row."""
    return _ledger_event(ConsentCode.CONSENT_WITHDRAWN, event, actor)


def objection_recorded_event(*, event: ConsentEvent, actor: Actor) -> AuditEvent:
    """402: an objection to a legitimate-interest purpose (Art 21); `event` is the ledger row."""
    return _ledger_event(ConsentCode.OBJECTION_RECORDED, event, actor)


def objection_withdrawn_event(*, event: ConsentEvent, actor: Actor) -> AuditEvent:
    """403: an objection taken back; `event` is the ledger row."""
    return _ledger_event(ConsentCode.OBJECTION_WITHDRAWN, event, actor)


def consent_wording_published_event(
    *, purpose: str, digest: str, material: bool, policy_version: int, actor: Actor
) -> AuditEvent:
    """404: new words for asking consent to `purpose`; `digest` is their SHA-256 (hex).

    A material change makes older grants need renewal (Recital 32).
    """
    return audit_log(
        code=ConsentCode.CONSENT_WORDING_PUBLISHED,
        actor=actor,
        purpose=purpose,
        data={"wording": digest[:16], "material": material, "policy_version": policy_version},
    )

"""The retention app's audit events: one function per event, codes 830-899.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Legal holds serve legal claims (Art 17(3)(e)).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.privacy.models import AuditEvent
    from qualipact.retention.models import LegalHold

PURPOSE = "legal_claims"
# Storage limitation is an obligation of the controller (GDPR Art 5(1)(e), 5(2)).
SWEEP_PURPOSE = "legal_compliance"


class RetentionCode(IntEnum):
    """Stored codes of the retention app. Never renumber; only add."""

    LEGAL_HOLD_PLACED = 830
    LEGAL_HOLD_LIFTED = 831
    RETENTION_SWEPT = 832


audit_codes_register(owner="retention", codes=RetentionCode, span=range(830, 900))


def legal_hold_placed_event(*, hold: LegalHold, actor: Actor) -> AuditEvent:
    """830: a hold keeps the person's data (`hold.models_held`, or all) from erasure."""
    return audit_log(
        code=RetentionCode.LEGAL_HOLD_PLACED,
        actor=actor,
        subject_id=hold.subject_id,
        purpose=PURPOSE,
        data={"hold_id": str(hold.pk), "basis": hold.basis, "models": hold.models_held},
    )


def legal_hold_lifted_event(*, hold: LegalHold, actor: Actor) -> AuditEvent:
    """831: the hold no longer keeps anything."""
    return audit_log(
        code=RetentionCode.LEGAL_HOLD_LIFTED,
        actor=actor,
        subject_id=hold.subject_id,
        purpose=PURPOSE,
        data={"hold_id": str(hold.pk)},
    )


def retention_swept_event(
    *, model: str, rule: int, action: str, rows: int, held_back: int, actor: Actor
) -> AuditEvent:
    """832: one batch of a retention rule applied (the retention engine). `model` is the
    declared model's label, `rule` the rule's place among its rules (1 = first), `rows`
    the rows deleted, cleared or people erased, `held_back` those a legal hold kept."""
    return audit_log(
        code=RetentionCode.RETENTION_SWEPT,
        actor=actor,
        purpose=SWEEP_PURPOSE,
        data={
            "model": model,
            "rule": rule,
            "action": action,
            "rows": rows,
            "held_back": held_back,
        },
    )

"""Access transparency: every staff view of decrypted personal data is one audit event.

The selector that decrypts for a staff page calls `staff_view_record` in the same
transaction, with the staff member, their role, the purpose and the fields shown, so
the person can see who accessed their data ("Who accessed my data") and the access
export lists it (GDPR Art. 15(1)(c) recipients, Art. 5(2) accountability, Art. 32;
policy §4: access only by authorised personnel who need it). Field names only, never
the values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.models import AuditEvent, DataSubject


@dataclass(frozen=True)
class StaffView:
    """Who will see decrypted data on a staff page: the staff member (`actor`), the role
    they act in (a `web.roles.Role` value) and the purpose (a `privacy.purposes` code).
    Selectors that decrypt for staff take one and record the view with it."""

    actor: Actor
    role: str
    purpose: str

    def record(
        self,
        *,
        subject: DataSubject | uuid.UUID | str,
        model: str,
        fields: Iterable[str],
        records: int = 1,
    ) -> AuditEvent:
        """`staff_view_record` for this viewer."""
        return staff_view_record(
            actor=self.actor,
            subject=subject,
            role=self.role,
            purpose=self.purpose,
            model=model,
            fields=fields,
            records=records,
        )


def staff_view_record(
    *,
    actor: Actor,
    subject: DataSubject | uuid.UUID | str,
    role: str,
    purpose: str,
    model: str,
    fields: Iterable[str],
    records: int = 1,
) -> AuditEvent:
    """Record that the staff member `actor`, acting as `role` (a `web.roles.Role`
    value), saw the decrypted `fields` of `records` rows of `model` (an app label such as
    "contact.Inquiry") of `subject`, for `purpose` (a code of `privacy.purposes`).

    Raises `ValueError` for a non-staff actor, an unknown purpose, or no fields.
    """
    if actor.kind != AuditEvent.ActorKind.STAFF:
        raise ValueError("Only a staff member's view is recorded as a staff access")
    shown = sorted(set(fields))
    if not shown:
        raise ValueError("A staff access names the fields shown")
    subject_id = subject.pk if isinstance(subject, DataSubject) else subject
    return audit_log(
        code=EventCode.SUBJECT_DATA_VIEWED,
        actor=actor,
        subject_id=subject_id,
        purpose=purpose,
        data={"role": role, "model": model, "fields": shown, "records": records},
    )

"""The back office's audit events (codes 900-999): staff and roles, and access alerts.

Codes are stored: never renumber; only add. 900-919: staff accounts and roles;
920-939: access transparency (alerts on bulk or unusual access).

Staff events are for `security` (GDPR Art 32(4): only authorised people who need it get
access; policy §4). Each is about the staff member concerned (`subject_id` is their data
subject, so they find it in their own access export) and holds ids and role codes only,
never a username or an address.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.privacy.models import AuditEvent

STAFF_PURPOSE = "security"
ACCESS_ALERT_PURPOSE = "security"


class BackofficeCode(IntEnum):
    # 900-919: staff accounts and roles
    STAFF_ACCOUNT_CREATED = 900
    STAFF_ROLE_GRANTED = 901
    STAFF_ROLE_REMOVED = 902
    STAFF_INVITED = 903
    STAFF_INVITE_ACCEPTED = 904
    STAFF_INVITE_CANCELLED = 905
    STAFF_DEACTIVATED = 906
    STAFF_RESTORED = 907
    # 920-939: access transparency
    ACCESS_ALERT_RAISED = 920  # one staff member viewed many people's data in a short time


audit_codes_register(owner="backoffice", codes=BackofficeCode, span=range(900, 1000))


# -- staff accounts and roles -------------------------------------------------------------


def _staff_event(
    code: BackofficeCode, *, subject_id: uuid.UUID, actor: Actor, **data: object
) -> AuditEvent:
    return audit_log(
        code=code, actor=actor, subject_id=subject_id, purpose=STAFF_PURPOSE, data=data
    )


def staff_account_created_event(*, subject_id: uuid.UUID, actor: Actor) -> AuditEvent:
    """900: a staff account was made from the command line (`manage.py staff_create`)."""
    return _staff_event(BackofficeCode.STAFF_ACCOUNT_CREATED, subject_id=subject_id, actor=actor)


def staff_role_granted_event(*, subject_id: uuid.UUID, actor: Actor, role: str) -> AuditEvent:
    """901: `role` (a `web.roles.Role` value) was granted to the staff member."""
    return _staff_event(
        BackofficeCode.STAFF_ROLE_GRANTED, subject_id=subject_id, actor=actor, role=role
    )


def staff_role_removed_event(*, subject_id: uuid.UUID, actor: Actor, role: str) -> AuditEvent:
    """902: `role` was taken away from the staff member."""
    return _staff_event(
        BackofficeCode.STAFF_ROLE_REMOVED, subject_id=subject_id, actor=actor, role=role
    )


def staff_invited_event(
    *, subject_id: uuid.UUID, actor: Actor, invite_id: uuid.UUID, roles: list[str]
) -> AuditEvent:
    """903: an administrator invited an address (the invitee's subject) to be staff."""
    return _staff_event(
        BackofficeCode.STAFF_INVITED,
        subject_id=subject_id,
        actor=actor,
        invite=str(invite_id),
        roles=sorted(roles),
    )


def staff_invite_accepted_event(
    *, subject_id: uuid.UUID, actor: Actor, invite_id: uuid.UUID, roles: list[str]
) -> AuditEvent:
    """904: the invitee opened the link and made their staff account."""
    return _staff_event(
        BackofficeCode.STAFF_INVITE_ACCEPTED,
        subject_id=subject_id,
        actor=actor,
        invite=str(invite_id),
        roles=sorted(roles),
    )


def staff_invite_cancelled_event(
    *, subject_id: uuid.UUID, actor: Actor, invite_id: uuid.UUID
) -> AuditEvent:
    """905: an administrator cancelled a pending invitation (or a new one replaced it)."""
    return _staff_event(
        BackofficeCode.STAFF_INVITE_CANCELLED,
        subject_id=subject_id,
        actor=actor,
        invite=str(invite_id),
    )


def staff_deactivated_event(
    *, subject_id: uuid.UUID, actor: Actor, roles: list[str], sessions: int
) -> AuditEvent:
    """906: a staff member's access ended: `roles` removed, `sessions` signed out."""
    return _staff_event(
        BackofficeCode.STAFF_DEACTIVATED,
        subject_id=subject_id,
        actor=actor,
        roles=sorted(roles),
        sessions=sessions,
    )


def staff_restored_event(*, subject_id: uuid.UUID, actor: Actor) -> AuditEvent:
    """907: an account became staff again (`manage.py staff_grant --restore`)."""
    return _staff_event(BackofficeCode.STAFF_RESTORED, subject_id=subject_id, actor=actor)


# -- access transparency ---------------------------------------------------------------


def access_alert_raised_event(
    *, staff_id: str, people: int, threshold: int, window_minutes: int
) -> AuditEvent:
    """920: the staff member `staff_id` viewed the data of `people` distinct persons within
    `window_minutes` minutes, more than `threshold`; every security officer was emailed.
    Ids and counts only (GDPR Art 32(1)(d), Art 33: detect unauthorised access)."""
    return audit_log(
        code=BackofficeCode.ACCESS_ALERT_RAISED,
        actor=Actor.system("access_alert"),
        purpose=ACCESS_ALERT_PURPOSE,
        data={
            "staff": staff_id,
            "people": people,
            "threshold": threshold,
            "window_minutes": window_minutes,
        },
    )

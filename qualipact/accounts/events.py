"""The accounts app's audit events: one function per event, codes 700-799.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Sign-in events are for `security` (Art 32), the account's
own life for `service_delivery`, the parental-consent flow for `legal_compliance`
(GDPR Art 8, COPPA) and what a parent or the person does with their data for
`data_subject_rights`. Events hold ids and codes, never a username, address or device.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.accounts.models import AccountSession, ParentalConsent, User
    from qualipact.privacy.models import AuditEvent

# Why the parental-consent flow keeps and erases data: GDPR Art 8 and COPPA.
CHILDREN_PURPOSE = "legal_compliance"


class AccountsCode(IntEnum):
    """Stored codes of the accounts app. Never renumber; only add."""

    # 70x-71x: accounts, sessions and sign-in
    ACCOUNT_CREATED = 700
    ACCOUNT_EMAIL_VERIFIED = 701
    ACCOUNT_SIGNED_IN = 702
    ACCOUNT_SIGNED_OUT = 703
    ACCOUNT_LOCKED_OUT = 704
    ACCOUNT_PASSWORD_CHANGED = 705
    ACCOUNT_PASSWORD_RESET = 706
    ACCOUNT_EMAIL_CHANGE_REQUESTED = 707
    ACCOUNT_EMAIL_CHANGED = 708
    ACCOUNT_PREFERENCES_CHANGED = 709
    ACCOUNT_SESSION_ENDED = 710
    ACCOUNT_NEW_DEVICE = 711
    ACCOUNT_DELETED = 712
    ACCOUNT_MFA_CHANGED = 713
    ACCOUNT_SOCIAL_LINKED = 714
    LOCKOUT_RECORDS_SWEPT = 715  # retired: see RETENTION_SWEPT (832)
    ACCOUNT_SESSIONS_SWEPT = 716  # retired: see RETENTION_SWEPT (832)
    # 72x: children and their parents
    PARENTAL_CONSENT_REQUESTED = 720
    PARENTAL_CONSENT_GRANTED = 721
    PARENTAL_CONSENT_WITHDRAWN = 722
    PARENTAL_CONSENT_EXPIRED = 723
    PARENTAL_CONFIRMATION_SENT = 724
    CHILD_DATA_VIEWED = 725
    CHILD_DATA_CORRECTED = 726
    CHILD_DATA_DOWNLOADED = 727
    CHILD_ACCOUNT_DELETED = 728
    UNDERAGE_ACCOUNT_ERASED = 729
    # 730-749: underage reports, one-time codes
    UNDERAGE_ACCOUNT_OPENED = 730
    UNDERAGE_REPORT_REFUSED = 731
    UNDERAGE_ACCOUNT_KEPT = 732
    ONE_TIME_CODE_REUSED = 733


audit_codes_register(owner="accounts", codes=AccountsCode, span=range(700, 800))

# The reasons a child's account is erased; the event says which (`child_erased_event`).
CHILD_ERASURE_CODES = frozenset(
    {
        AccountsCode.PARENTAL_CONSENT_WITHDRAWN,
        AccountsCode.PARENTAL_CONSENT_EXPIRED,
        AccountsCode.CHILD_ACCOUNT_DELETED,
        AccountsCode.UNDERAGE_ACCOUNT_ERASED,
    }
)


def _own(code: AccountsCode, user: User, purpose: str, **data: Any) -> AuditEvent:
    """An event the account holder caused about their own account."""
    return audit_log(
        code=code,
        actor=Actor.subject(user.subject_id),
        subject_id=user.subject_id,
        purpose=purpose,
        data=data,
    )


# -- the account --------------------------------------------------------------------------


def account_created_event(
    *, subject_id: uuid.UUID, actor: Actor, child: bool, staff: bool
) -> AuditEvent:
    """700: an account was opened (`child`: below the age of digital consent)."""
    return audit_log(
        code=AccountsCode.ACCOUNT_CREATED,
        actor=actor,
        subject_id=subject_id,
        purpose="service_delivery",
        data={"child": child, "staff": staff},
    )


def account_email_verified_event(*, user: User) -> AuditEvent:
    """701: the person proved the account's address."""
    return _own(AccountsCode.ACCOUNT_EMAIL_VERIFIED, user, "service_delivery")


def account_password_changed_event(*, user: User) -> AuditEvent:
    """705: the signed-in person set a new password; every session ended."""
    return _own(AccountsCode.ACCOUNT_PASSWORD_CHANGED, user, "security")


def account_password_reset_event(*, user: User) -> AuditEvent:
    """706: a new password was set from an emailed reset link; every session ended."""
    return _own(AccountsCode.ACCOUNT_PASSWORD_RESET, user, "security")


def account_email_change_requested_event(*, user: User) -> AuditEvent:
    """707: a link to confirm a new address was asked for (the address is not logged)."""
    return _own(AccountsCode.ACCOUNT_EMAIL_CHANGE_REQUESTED, user, "service_delivery")


def account_email_changed_event(*, user: User) -> AuditEvent:
    """708: the new address was confirmed and is now the account's."""
    return _own(AccountsCode.ACCOUNT_EMAIL_CHANGED, user, "service_delivery")


def account_preferences_changed_event(*, user: User, fields: list[str]) -> AuditEvent:
    """709: the named preference fields changed (names, never values)."""
    return _own(AccountsCode.ACCOUNT_PREFERENCES_CHANGED, user, "service_delivery", fields=fields)


def account_deleted_event(*, subject_id: uuid.UUID, actor: Actor) -> AuditEvent:
    """712: the account and all the person's data are being erased (Art 17)."""
    return audit_log(
        code=AccountsCode.ACCOUNT_DELETED,
        actor=actor,
        subject_id=subject_id,
        purpose="data_subject_rights",
    )


def account_social_linked_event(*, user: User, provider: str, sign_up: bool) -> AuditEvent:
    """714: a sign-in provider (its id, such as `google`) was connected to the account."""
    return _own(
        AccountsCode.ACCOUNT_SOCIAL_LINKED,
        user,
        "service_delivery",
        provider=provider,
        sign_up=sign_up,
    )


# -- sign-in and sessions -----------------------------------------------------------------


def account_signed_in_event(*, record: AccountSession) -> AuditEvent:
    """702: a sign-in opened the session `record`."""
    return audit_log(
        code=AccountsCode.ACCOUNT_SIGNED_IN,
        actor=Actor.subject(record.subject_id),
        subject_id=record.subject_id,
        purpose="security",
        data={"session": str(record.pk)},
    )


def account_new_device_event(*, record: AccountSession) -> AuditEvent:
    """711: the sign-in came from a device the account was not used from before."""
    return audit_log(
        code=AccountsCode.ACCOUNT_NEW_DEVICE,
        actor=Actor.subject(record.subject_id),
        subject_id=record.subject_id,
        purpose="security",
        data={"session": str(record.pk)},
    )


def account_session_ended_event(*, record: AccountSession) -> AuditEvent:
    """710: the session ended for `record.ended_reason` (a code)."""
    return audit_log(
        code=AccountsCode.ACCOUNT_SESSION_ENDED,
        actor=Actor.subject(record.subject_id),
        subject_id=record.subject_id,
        purpose="security",
        data={"session": str(record.pk), "reason": record.ended_reason},
    )


def account_signed_out_event(*, record: AccountSession) -> AuditEvent:
    """703: the person signed out of the session `record`."""
    return audit_log(
        code=AccountsCode.ACCOUNT_SIGNED_OUT,
        actor=Actor.subject(record.subject_id),
        subject_id=record.subject_id,
        purpose="security",
        data={"session": str(record.pk)},
    )


def account_locked_out_event(*, subject_id: uuid.UUID | None) -> AuditEvent:
    """704: too many failed sign-ins; `subject_id` is None when no account matched."""
    return audit_log(
        code=AccountsCode.ACCOUNT_LOCKED_OUT,
        actor=Actor.system("lockout"),
        subject_id=subject_id,
        purpose="security",
    )


def one_time_code_reused_event(*, user: User, kind: str, flow: str) -> AuditEvent:
    """733: a one-time code (`kind`) was offered a second time during `flow`; refused."""
    return audit_log(
        code=AccountsCode.ONE_TIME_CODE_REUSED,
        actor=Actor.system("mfa"),
        subject_id=user.subject_id,
        purpose="security",
        data={"kind": kind, "flow": flow},
    )


# -- children and their parents -----------------------------------------------------------


def parental_consent_requested_event(*, consent: ParentalConsent, days: int) -> AuditEvent:
    """720: a parent was asked to consent within `days` days (Art 8(1))."""
    return audit_log(
        code=AccountsCode.PARENTAL_CONSENT_REQUESTED,
        actor=Actor.subject(consent.subject_id),
        subject_id=consent.subject_id,
        purpose=CHILDREN_PURPOSE,
        data={"consent": str(consent.pk), "days": days},
    )


def parental_consent_granted_event(*, consent: ParentalConsent, parent: User) -> AuditEvent:
    """721: the parent (signed in to their own account) consented for the child."""
    return audit_log(
        code=AccountsCode.PARENTAL_CONSENT_GRANTED,
        actor=Actor.subject(parent.subject_id),
        subject_id=consent.subject_id,
        purpose=CHILDREN_PURPOSE,
        data={"consent": str(consent.pk), "parent": str(parent.subject_id)},
    )


def parental_confirmation_sent_event(*, consent: ParentalConsent, actor: Actor) -> AuditEvent:
    """724: the parent was sent the delayed confirmation of their consent (COPPA 312.5)."""
    return audit_log(
        code=AccountsCode.PARENTAL_CONFIRMATION_SENT,
        actor=actor,
        subject_id=consent.subject_id,
        purpose=CHILDREN_PURPOSE,
        data={"consent": str(consent.pk)},
    )


def child_erased_event(
    *, code: AccountsCode, subject_id: uuid.UUID, actor: Actor, data: dict[str, Any]
) -> AuditEvent:
    """Why a child's account is erased: `code` is one of `CHILD_ERASURE_CODES`.

    Raises `ValueError` for any other code.
    """
    if code not in CHILD_ERASURE_CODES:
        raise ValueError(f"Audit code {int(code)} does not say why a child's data is erased")
    return audit_log(
        code=code, actor=actor, subject_id=subject_id, purpose="data_subject_rights", data=data
    )


def _by_parent(code: AccountsCode, parent: User, child: User, **data: Any) -> AuditEvent:
    return audit_log(
        code=code,
        actor=Actor.subject(parent.subject_id),
        subject_id=child.subject_id,
        purpose="data_subject_rights",
        data=data,
    )


def child_data_viewed_event(*, parent: User, child: User, records: int) -> AuditEvent:
    """725: the parent looked at everything stored about the child (`records` rows)."""
    return _by_parent(AccountsCode.CHILD_DATA_VIEWED, parent, child, records=records)


def child_data_downloaded_event(*, parent: User, child: User, records: int) -> AuditEvent:
    """727: the parent downloaded the child's data (`records` rows)."""
    return _by_parent(AccountsCode.CHILD_DATA_DOWNLOADED, parent, child, records=records)


def child_data_corrected_event(*, parent: User, child: User, fields: list[str]) -> AuditEvent:
    """726: the parent corrected the named fields of the child's account."""
    return _by_parent(AccountsCode.CHILD_DATA_CORRECTED, parent, child, fields=fields)


def underage_account_opened_event(*, account: User, actor: Actor) -> AuditEvent:
    """730: a DPO looked at an account before reporting it as a child's."""
    return audit_log(
        code=AccountsCode.UNDERAGE_ACCOUNT_OPENED,
        actor=actor,
        subject_id=account.subject_id,
        purpose=CHILDREN_PURPOSE,
    )


def underage_report_refused_event(*, account: User, actor: Actor, reason: str) -> AuditEvent:
    """731: the report's birth date makes the person an adult; nothing changed."""
    return audit_log(
        code=AccountsCode.UNDERAGE_REPORT_REFUSED,
        actor=actor,
        subject_id=account.subject_id,
        purpose=CHILDREN_PURPOSE,
        data={"reason": reason, "refused": "adult"},
    )


def underage_account_kept_event(*, account: User, actor: Actor, reason: str) -> AuditEvent:
    """732: reported as a child's, but a parent consented: the account is kept."""
    return audit_log(
        code=AccountsCode.UNDERAGE_ACCOUNT_KEPT,
        actor=actor,
        subject_id=account.subject_id,
        purpose=CHILDREN_PURPOSE,
        data={"by": str(actor.kind), "reason": reason},
    )

"""The tamper-evident audit log.

Events are append-only and chained: each stores the HMAC (under AUDIT_KEY) of the
previous event's hash and its own content, and ids are consecutive. Editing,
deleting or reordering a row breaks the chain, which `audit_verify` reports.
Events hold ids, codes and field names only, never plaintext personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from enum import IntEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from qualipact.privacy.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


class EventCode(IntEnum):
    """Stable numeric codes, grouped by domain. Never renumber; only add."""

    # 1xx: data subjects
    SUBJECT_CREATED = 100
    SUBJECT_ERASED = 101
    SUBJECT_KEY_SHREDDED = 102
    SUBJECT_RESTRICTED = 103
    SUBJECT_RESTRICTION_LIFTED = 104
    SUBJECT_DATA_COLLECTED = 110
    # 2xx: the vault
    VAULT_KEYS_ROTATED = 200
    # 3xx: contact and inquiries
    INQUIRY_SUBMITTED = 300
    # 4xx: consent and objections
    CONSENT_GRANTED = 400
    CONSENT_WITHDRAWN = 401
    OBJECTION_RECORDED = 402
    OBJECTION_WITHDRAWN = 403
    CONSENT_WORDING_PUBLISHED = 404
    # 5xx: communications
    EMAIL_QUEUED = 500
    EMAIL_SENT = 501
    EMAIL_FAILED = 502
    EMAIL_LEASE_EXPIRED = 503
    NEWSLETTER_SIGNUP = 510
    NEWSLETTER_CONFIRMED = 511
    NEWSLETTER_SENT = 512
    NEWSLETTER_WRITTEN = 513
    NEWSLETTER_SIGNUP_REFUSED = 520
    PREFERENCE_FRESH_LINK_SENT = 521
    # 6xx: offers
    TOPIC_PREFERENCES_SET = 600
    OFFER_VIEW_RECORDED = 601
    LOCATION_RECORDED = 602
    LOCATION_FORGOTTEN = 603
    OFFERS_PERSONAL_DATA_SWEPT = 604
    # 7xx: accounts, sessions and sign-in
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
    LOCKOUT_RECORDS_SWEPT = 715
    ACCOUNT_SESSIONS_SWEPT = 716
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
    # 730-749: accounts hardening (underage reports, one-time codes, deferred address work)
    UNDERAGE_ACCOUNT_OPENED = 730
    UNDERAGE_REPORT_REFUSED = 731
    UNDERAGE_ACCOUNT_KEPT = 732
    ONE_TIME_CODE_REUSED = 733
    # 8xx: data-subject requests and legal holds
    RIGHTS_REQUEST_RECEIVED = 800
    RIGHTS_REQUEST_VERIFIED = 801
    RIGHTS_VERIFICATION_FAILED = 802
    RIGHTS_REQUEST_STATUS_CHANGED = 803
    RIGHTS_REQUEST_EXTENDED = 804
    RIGHTS_REQUEST_COMPLETED = 805
    RIGHTS_REQUEST_REFUSED = 806
    RIGHTS_NOTE_ADDED = 807
    RIGHTS_EXPORT_BUILT = 810
    RIGHTS_EXPORT_DOWNLOADED = 811
    RIGHTS_EXPORT_DELETED = 812
    RIGHTS_EXPORT_TRANSFERRED = 813
    RIGHTS_RESTRICTION_LIFT_NOTIFIED = 814
    RIGHTS_RESTRICTION_LIFTED = 815
    RIGHTS_REQUEST_LOG_SWEPT = 816
    RIGHTS_DEADLINES_REMINDED = 817
    RIGHTS_REQUEST_FAILED = 818
    RIGHTS_REQUEST_RETRIED = 819
    RIGHTS_RECTIFIED = 820
    RIGHTS_RECIPIENTS_NOTIFIED = 821
    RIGHTS_REQUEST_FOR_OTHER_REFUSED = 822
    LEGAL_HOLD_PLACED = 830
    LEGAL_HOLD_LIFTED = 831
    # One batch of rows swept by the retention engine (retention.engine).
    RETENTION_SWEPT = 832


@dataclass(frozen=True)
class Actor:
    kind: AuditEvent.ActorKind
    id: str = ""

    @classmethod
    def system(cls, name: str = "") -> Actor:
        return cls(AuditEvent.ActorKind.SYSTEM, name)

    @classmethod
    def subject(cls, subject_id: uuid.UUID | str) -> Actor:
        return cls(AuditEvent.ActorKind.SUBJECT, str(subject_id))

    @classmethod
    def staff(cls, user_id: int | str | uuid.UUID | None) -> Actor:
        if user_id is None:
            raise ValueError("A staff actor needs the staff member's id")
        return cls(AuditEvent.ActorKind.STAFF, str(user_id))


# Values in `data` must look like ids, codes, counts or field names: never free text.
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:\-]{0,100}$")


def _check_data(value: Any, path: str = "data") -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if not _SAFE_TEXT.match(value):
            raise ValueError(
                f"Audit {path} must hold ids, codes or field names only, not free text"
            )
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_data(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_data(str(key), f"{path} key")
            _check_data(item, f"{path}.{key}")
        return
    raise ValueError(f"Audit {path} has a value of type {type(value).__name__}")


def _canonical(event: AuditEvent) -> bytes:
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        "id": event.id,
        "occurred_at": occurred,
        "code": int(event.code),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "subject_id": str(event.subject_id) if event.subject_id else "",
        "purpose": event.purpose,
        "data": event.data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _chain_hash(prev_hash: str, event: AuditEvent) -> str:
    message = prev_hash.encode() + b"\n" + _canonical(event)
    return hmac.new(settings.AUDIT_KEY, message, hashlib.sha256).hexdigest()


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=1, last_event_id=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass  # created concurrently
    return AuditHead.objects.select_for_update().get(pk=1)


@transaction.atomic
def audit_log(
    *,
    code: EventCode,
    actor: Actor,
    subject_id: uuid.UUID | str | None = None,
    purpose: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    payload = dict(data or {})
    _check_data(payload)
    _check_data(actor.id, "actor id")
    _check_data(purpose, "purpose")
    head = _locked_head()
    event = AuditEvent(
        id=head.last_event_id + 1,
        occurred_at=timezone.now(),
        code=int(code),
        actor_kind=actor.kind,
        actor_id=actor.id,
        subject_id=uuid.UUID(str(subject_id)) if subject_id else None,
        purpose=purpose,
        data=payload,
        prev_hash=head.hash,
    )
    event.hash = _chain_hash(head.hash, event)
    event.save(force_insert=True)
    head.last_event_id = event.id
    head.hash = event.hash
    head.save(update_fields=["last_event_id", "hash", "updated_at"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"ok {self.count} events"
        return f"broken at event {self.broken_at}: {self.reason}"


def audit_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the whole chain; report the first broken link."""
    expected_id = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.id != expected_id:
            return ChainReport(False, count, expected_id, "event is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(False, count, event.id, "previous-hash link does not match")
        if not hmac.compare_digest(_chain_hash(prev_hash, event), event.hash):
            return ChainReport(False, count, event.id, "content does not match its hash")
        prev_hash = event.hash
        expected_id += 1
        count += 1
    head = AuditHead.objects.filter(pk=1).first()
    head_id, head_hash = (head.last_event_id, head.hash) if head else (0, GENESIS_HASH)
    if head_id != count or head_hash != prev_hash:
        return ChainReport(False, count, count + 1, "events after this point were removed")
    return ChainReport(True, count)


def audit_events_for(subject_id: uuid.UUID | str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_id=subject_id).order_by("id"))

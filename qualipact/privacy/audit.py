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
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from qualipact.privacy.models import AuditEvent, AuditHead
from qualipact.privacy.purposes import PURPOSES

GENESIS_HASH = "0" * 64


class EventCode(IntEnum):
    """The privacy core's own codes: data subjects (1xx) and the vault (2xx).

    Every feature app owns its codes in its own `events.py` and registers them with
    `audit_codes_register`. Codes are stored: never renumber; only add.
    """

    # 1xx: data subjects
    SUBJECT_CREATED = 100
    SUBJECT_ERASED = 101
    SUBJECT_KEY_SHREDDED = 102
    SUBJECT_RESTRICTED = 103
    SUBJECT_RESTRICTION_LIFTED = 104
    SUBJECT_DATA_COLLECTED = 110
    SUBJECT_DATA_VIEWED = 111  # a staff member saw decrypted personal data (privacy.access)
    # 2xx: the vault
    VAULT_KEYS_ROTATED = 200


@dataclass(frozen=True)
class CodeRange:
    """The codes one app may write: every member of `codes` lies in `span`."""

    owner: str
    codes: type[IntEnum]
    span: range


_RANGES: dict[str, CodeRange] = {}
_NAMES: dict[int, str] = {}  # code -> member name, over every registered app


def audit_codes_register(*, owner: str, codes: type[IntEnum], span: range) -> None:
    """Let the app `owner` (its label) write the audit codes of the enum `codes`.

    `span` is the app's own range of numbers (`range(300, 400)`); every member of
    `codes` must lie in it. Called when the app's `events.py` is imported, so the core
    never imports a feature app. Registering the same owner again (a module reload)
    replaces its codes. Raises `ImproperlyConfigured` when the span overlaps another
    owner's, or a code lies outside the span: a code is stored and means one event for
    ever, so two apps may never share a number.
    """
    problems = [
        f"{owner}: {member.name}={member.value} lies outside {span.start}-{span.stop - 1}"
        for member in codes
        if member.value not in span
    ]
    for other in _RANGES.values():
        if other.owner != owner and span.start < other.span.stop and other.span.start < span.stop:
            problems.append(
                f"{owner}: codes {span.start}-{span.stop - 1} overlap {other.owner}'s "
                f"{other.span.start}-{other.span.stop - 1}"
            )
    if problems:
        raise ImproperlyConfigured("Audit codes are invalid:\n  - " + "\n  - ".join(problems))
    previous = _RANGES.get(owner)
    if previous is not None:
        for member in previous.codes:
            _NAMES.pop(member.value, None)
    _RANGES[owner] = CodeRange(owner=owner, codes=codes, span=span)
    _NAMES.update({member.value: member.name for member in codes})


def audit_code_ranges() -> list[CodeRange]:
    """Every registered app's codes, lowest range first."""
    return sorted(_RANGES.values(), key=lambda r: r.span.start)


def audit_code_name(code: int) -> str:
    """The registered name of a stored code (`CONSENT_GRANTED`), or the number as text."""
    return _NAMES.get(int(code), str(code))


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
    code: IntEnum,
    actor: Actor,
    subject_id: uuid.UUID | str | None = None,
    purpose: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    `code` must be registered by its app (`audit_codes_register`) and `purpose`, when
    given, must be a code of `privacy.purposes.PURPOSES`: a typo raises `ValueError`
    instead of being stored for ever. `data` holds ids, codes, counts and field names
    only (see `_check_data`); free text raises `ValueError`.
    """
    if int(code) not in _NAMES:
        raise ValueError(
            f"Audit code {int(code)} is not registered; an app registers its codes "
            "with audit_codes_register in its events module"
        )
    if purpose and purpose not in PURPOSES:
        raise ValueError(f"Unknown audit purpose {purpose!r}; known: {', '.join(sorted(PURPOSES))}")
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


@dataclass(frozen=True)
class EventCheck:
    """One event's place in the chain: `ok` when its hash matches its content and the
    hash it links to, and that hash is the one of the event before it."""

    event_id: int
    hash: str
    ok: bool
    reason: str = ""


def audit_events_verify(events: list[AuditEvent]) -> list[EventCheck]:
    """Check `events` (a selection, e.g. one request's) link by link, without walking the
    whole chain: each must match its own hash and follow the event before it (id - 1, or
    the genesis hash for the first). Two queries whatever the number of events."""
    before = {event.id - 1 for event in events if event.id > 1}
    hashes = dict(AuditEvent.objects.filter(id__in=before).values_list("id", "hash"))
    checks = []
    for event in events:
        previous = GENESIS_HASH if event.id == 1 else hashes.get(event.id - 1)
        if previous is None:
            reason = "the event before it is missing"
        elif event.prev_hash != previous:
            reason = "previous-hash link does not match"
        elif not hmac.compare_digest(_chain_hash(event.prev_hash, event), event.hash):
            reason = "content does not match its hash"
        else:
            reason = ""
        checks.append(EventCheck(event.id, event.hash, not reason, reason))
    return checks


def audit_events_for(subject_id: uuid.UUID | str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_id=subject_id).order_by("id"))


audit_codes_register(owner="privacy", codes=EventCode, span=range(100, 300))

"""The vault: per-subject data keys, field encryption, blind indexes and key destruction.

Each subject has a random 256-bit data key, stored wrapped with AES-256-GCM under a
master key (with its id, so master keys rotate) in the key database only. Field
ciphertext is bound to table, column and subject as associated data. Destroying a
subject's key makes every copy of their ciphertext unreadable (crypto-shredding).

Unwrapped keys are cached in memory for at most VAULT_KEY_CACHE_SECONDS. Every cached
entry remembers the shred epoch it was read under; each shred sets a new epoch in the
shared Django cache (Redis in production), so no process serves a key after a shred.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from qualipact.privacy.errors import SubjectShredded, VaultError
from qualipact.privacy.models import ShredRecord, SubjectKey

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
EPOCH_CACHE_KEY = "privacy:vault:shred-epoch"
KEYS_DB = "keys"


class Sealed(bytes):
    """Ciphertext as read from the database, not yet decrypted."""


@dataclass
class _CachedKey:
    key: bytes
    expires_at: float
    epoch: str


_cache: dict[uuid.UUID, _CachedKey] = {}
_cache_lock = threading.Lock()


def _as_uuid(subject_id: uuid.UUID | str) -> uuid.UUID:
    return subject_id if isinstance(subject_id, uuid.UUID) else uuid.UUID(str(subject_id))


def _current_master() -> tuple[str, bytes]:
    key_id, key = next(iter(settings.VAULT_MASTER_KEYS.items()))
    return key_id, key


def _wrap_aad(master_key_id: str, subject_id: uuid.UUID) -> bytes:
    return f"qualipact-vault-key|{master_key_id}|{subject_id}".encode()


def _wrap(subject_id: uuid.UUID, data_key: bytes) -> tuple[str, bytes]:
    key_id, master = _current_master()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(master).encrypt(nonce, data_key, _wrap_aad(key_id, subject_id))
    return key_id, nonce + sealed


def _unwrap(row: SubjectKey) -> bytes:
    master = settings.VAULT_MASTER_KEYS.get(row.master_key_id)
    if master is None:
        raise VaultError(
            f"Data key of subject {row.subject_id} is wrapped under master key "
            f"'{row.master_key_id}', which is not configured in VAULT_MASTER_KEYS"
        )
    blob = bytes(row.wrapped_key)
    try:
        return AESGCM(master).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_aad(row.master_key_id, row.subject_id)
        )
    except InvalidTag:
        raise VaultError(f"Data key of subject {row.subject_id} failed authentication") from None


# Secrets sealed with `master_seal` live in other apps' tables; each app registers how to
# re-seal its own under the newest master key, and `manage.py vault_rotate` runs them all.
_reseal_hooks: dict[str, Callable[[], int]] = {}


def reseal_hook_register(name: str, hook: Callable[[], int]) -> None:
    """`hook()` re-seals the app's sealed values under the current master key; returns a count."""
    _reseal_hooks[name] = hook


def reseal_hooks() -> dict[str, Callable[[], int]]:
    return dict(_reseal_hooks)


def master_key_id_of(token: str) -> str:
    """The id of the master key a `master_seal` value is sealed under."""
    return token.partition(".")[2].rpartition(".")[0]


def master_seal(context: str, plaintext: str) -> str:
    """Encrypt a secret that belongs to no one subject (an MFA seed) under the master key.

    Text out: "m1.<master key id>.<base64 of nonce + ciphertext>", bound to `context`.
    Kept readable while its master key stays in VAULT_MASTER_KEYS.
    """
    key_id, master = _current_master()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(master).encrypt(nonce, plaintext.encode(), f"{context}|{key_id}".encode())
    return f"m1.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def master_open(context: str, token: str) -> str:
    version, _, rest = token.partition(".")
    key_id, _, body = rest.rpartition(".")
    master = settings.VAULT_MASTER_KEYS.get(key_id)
    if version != "m1" or master is None:
        raise VaultError(f"{context}: not sealed under a configured master key")
    blob = base64.urlsafe_b64decode(body)
    try:
        plain = AESGCM(master).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"{context}|{key_id}".encode()
        )
    except InvalidTag:
        raise VaultError(f"{context}: sealed value failed authentication") from None
    return plain.decode()


def _shred_epoch() -> str:
    epoch = cache.get(EPOCH_CACHE_KEY)
    if epoch is None:
        # Evicted or never set: start a new epoch, so keys cached under a lost one
        # are never taken for current.
        cache.add(EPOCH_CACHE_KEY, uuid.uuid4().hex, None)
        epoch = cache.get(EPOCH_CACHE_KEY)
    return str(epoch)


def _cached(subject_id: uuid.UUID) -> bytes | None:
    entry = _cache.get(subject_id)
    if entry is None:
        return None
    if entry.expires_at < time.monotonic() or entry.epoch != _shred_epoch():
        with _cache_lock:
            _cache.pop(subject_id, None)
        return None
    return entry.key


def _remember(subject_id: uuid.UUID, key: bytes, epoch: str) -> None:
    ttl = settings.VAULT_KEY_CACHE_SECONDS
    if ttl <= 0:
        return
    with _cache_lock:
        _cache[subject_id] = _CachedKey(key, time.monotonic() + ttl, epoch)


def key_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def data_key(subject_id: uuid.UUID | str, *, create: bool = False) -> bytes:
    """The subject's unwrapped data key; created on first use when `create` is true."""
    subject_id = _as_uuid(subject_id)
    key = _cached(subject_id)
    if key is not None:
        return key
    # Read the epoch before the key: a shred that lands in between changes the epoch,
    # so the entry cached here is never served afterwards.
    epoch = _shred_epoch()
    row = _key_row(subject_id)
    if row is None:
        if ShredRecord.objects.using(KEYS_DB).filter(subject_id=subject_id).exists():
            raise SubjectShredded(
                f"Subject {subject_id} was erased: their data key is destroyed and "
                "their encrypted data can no longer be read",
                {"subject_id": str(subject_id)},
            )
        if not create:
            raise VaultError(f"Subject {subject_id} has no data key", {"subject": str(subject_id)})
        row = _create_key(subject_id)
    key = _unwrap(row)
    _remember(subject_id, key, epoch)
    return key


def _key_row(subject_id: uuid.UUID) -> SubjectKey | None:
    # The hottest query of the vault (every key-cache miss): one plain statement
    # instead of the ORM's compiler, about four times faster on SQLite.
    connection = connections[KEYS_DB]
    table = connection.ops.quote_name(SubjectKey._meta.db_table)
    value = SubjectKey._meta.pk.get_db_prep_value(subject_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT master_key_id, wrapped_key FROM {table} WHERE subject_id = %s",  # noqa: S608
            [value],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    return SubjectKey(subject_id=subject_id, master_key_id=found[0], wrapped_key=bytes(found[1]))


def _create_key(subject_id: uuid.UUID) -> SubjectKey:
    key_id, wrapped = _wrap(subject_id, AESGCM.generate_key(256))
    try:
        with transaction.atomic(using=KEYS_DB):
            return SubjectKey.objects.using(KEYS_DB).create(
                subject_id=subject_id, master_key_id=key_id, wrapped_key=wrapped
            )
    except IntegrityError:
        # Another process created it first: use theirs.
        return SubjectKey.objects.using(KEYS_DB).get(subject_id=subject_id)


def key_destroy(subject_id: uuid.UUID | str) -> bool:
    """Destroy the subject's data key for good. Returns whether a key existed."""
    subject_id = _as_uuid(subject_id)
    with transaction.atomic(using=KEYS_DB):
        deleted, _ = SubjectKey.objects.using(KEYS_DB).filter(subject_id=subject_id).delete()
        # One INSERT that does nothing when the record exists: shredding twice is fine.
        ShredRecord.objects.using(KEYS_DB).bulk_create(
            [ShredRecord(subject_id=subject_id)], ignore_conflicts=True
        )
    cache.set(EPOCH_CACHE_KEY, uuid.uuid4().hex, None)
    with _cache_lock:
        _cache.pop(subject_id, None)
    return deleted > 0


def is_shredded(subject_id: uuid.UUID | str) -> bool:
    return ShredRecord.objects.using(KEYS_DB).filter(subject_id=_as_uuid(subject_id)).exists()


def _field_aad(context: str, subject_id: uuid.UUID) -> bytes:
    return f"{context}|{subject_id}".encode()


def encrypt_with_key(key: bytes, *, subject_id: uuid.UUID, context: str, plaintext: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _field_aad(context, subject_id))
    return FORMAT_V1 + nonce + sealed


def decrypt_with_key(key: bytes, *, subject_id: uuid.UUID, context: str, ciphertext: bytes) -> str:
    if ciphertext[:1] != FORMAT_V1:
        raise VaultError(f"Unknown ciphertext format in {context} of subject {subject_id}")
    nonce = ciphertext[1 : 1 + NONCE_BYTES]
    try:
        plain = AESGCM(key).decrypt(
            nonce, ciphertext[1 + NONCE_BYTES :], _field_aad(context, subject_id)
        )
    except InvalidTag:
        raise VaultError(
            f"Ciphertext in {context} does not belong to subject {subject_id} or was altered"
        ) from None
    return plain.decode()


def encrypt_bytes_with_key(
    key: bytes, *, subject_id: uuid.UUID, context: str, plaintext: bytes
) -> bytes:
    """As `encrypt_with_key`, for binary payloads (such as a sealed export archive)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, bytes(plaintext), _field_aad(context, subject_id))
    return FORMAT_V1 + nonce + sealed


def decrypt_bytes_with_key(
    key: bytes, *, subject_id: uuid.UUID, context: str, ciphertext: bytes
) -> bytes:
    if ciphertext[:1] != FORMAT_V1:
        raise VaultError(f"Unknown ciphertext format in {context} of subject {subject_id}")
    nonce = ciphertext[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(
            nonce, ciphertext[1 + NONCE_BYTES :], _field_aad(context, subject_id)
        )
    except InvalidTag:
        raise VaultError(
            f"Ciphertext in {context} does not belong to subject {subject_id} or was altered"
        ) from None


def encrypt(subject_id: uuid.UUID | str, context: str, plaintext: str) -> bytes:
    """Encrypt `plaintext` for the subject, bound to `context` ("table.column")."""
    subject_id = _as_uuid(subject_id)
    key = data_key(subject_id, create=True)
    return encrypt_with_key(key, subject_id=subject_id, context=context, plaintext=plaintext)


def decrypt(subject_id: uuid.UUID | str, context: str, ciphertext: bytes) -> str:
    subject_id = _as_uuid(subject_id)
    key = data_key(subject_id)
    return decrypt_with_key(key, subject_id=subject_id, context=context, ciphertext=ciphertext)


# -- blind indexes --------------------------------------------------------------------

_NORMALISERS = {"email": lambda value: value.strip().casefold()}


def blind_index(scope: str, value: str) -> str:
    """HMAC-SHA256 of the normalised value under the blind-index key, separated by scope."""
    normalise = _NORMALISERS.get(scope, str.strip)
    message = scope.encode() + b"\x00" + normalise(value).encode()
    return hmac.new(settings.BLIND_INDEX_KEY, message, hashlib.sha256).hexdigest()


# -- master key rotation ---------------------------------------------------------------


def keys_to_rotate() -> int:
    current_id, _ = _current_master()
    return SubjectKey.objects.using(KEYS_DB).exclude(master_key_id=current_id).count()


def keys_rotate(*, batch_size: int = 500) -> Iterator[int]:
    """Rewrap every data key not under the current master key; yields the count per batch."""
    current_id, _ = _current_master()
    while True:
        with transaction.atomic(using=KEYS_DB):
            batch = list(
                SubjectKey.objects.using(KEYS_DB)
                .select_for_update()
                .exclude(master_key_id=current_id)
                .order_by("subject_id")[:batch_size]
            )
            if not batch:
                return
            now = timezone.now()
            for row in batch:
                row.master_key_id, row.wrapped_key = _wrap(row.subject_id, _unwrap(row))
                row.updated_at = now
            SubjectKey.objects.using(KEYS_DB).bulk_update(
                batch, ["master_key_id", "wrapped_key", "updated_at"]
            )
        yield len(batch)

"""Benchmark of the privacy spine: one person's collect and erase, library against raw SQL.

Run from the repository root:

    .venv/bin/python bench/spine.py                      # 10,000 subjects, 200 samples
    .venv/bin/python bench/spine.py --large              # 100,000 subjects
    .venv/bin/python bench/spine.py --subjects 50000 --samples 500
    .venv/bin/python bench/spine.py --keep               # reuse the data set of a former run

The data lives in var/bench-<N>/ (secrets, SQLite files, cache), never in the developer's
var/ data. Without --keep its databases and cache are deleted (its generated secrets are
kept) and the people are created again through `inquiry_submit`, so every row is
encrypted exactly as real data is. Each run erases 4 x samples (+ warm-up) people, so
--keep reruns sample from those still intact.

DATABASE_URL and KEYS_DATABASE_URL are honoured (e.g. PostgreSQL, as in CI); such a
database must be empty unless --keep is given, and is never flushed. DEBUG is forced off
so that Django does not log queries during the measurement.

For each sampled person the script times one `subject_collect` and one `subject_erase`
(the library), and the same work done by hand on raw cursors:
- collect: SELECT the rows and the wrapped key, unwrap it, decrypt every field;
- erase: lock the person, look up their active legal holds, DELETE their rows, mark
  them erased and append the chained audit event; then DELETE the key, INSERT the
  shred record, publish a new shred epoch and append the second audit event, exactly
  the operations `subject_erase` performs.
  After the run the audit chain (written by both paths) must verify.
A third row, for information, times a bare erase: DELETE the rows and the key, INSERT
the shred record, nothing else. The in-process key cache is cleared before every call.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import json
import os
import platform
import random
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SUBJECTS = 10_000
LARGE_SUBJECTS = 100_000
TARGET_RATIO = 5.0
WARMUP = 5
BATCH = 250
SECRETS_FILE = "secrets.json"
LOCALES = ["en_GB", "de_DE", "fr_FR", "nl_NL", "en_US"]
KINDS = (("general", 0.7), ("privacy", 0.2), ("complaint", 0.1))

# The raw-SQL path: hand-written statements over the same tables and columns.
IDENTIFIER_LABEL = "privacy.SubjectIdentifier"
INQUIRY_LABEL = "contact.Inquiry"
INQUIRY_COLUMNS = (
    "name",
    "email",
    "email_index",
    "phone",
    "postal_address",
    "subject_line",
    "message",
)
INQUIRY_ENCRYPTED = frozenset(INQUIRY_COLUMNS) - {"email_index"}
INQUIRY_OPTIONAL = frozenset({"phone", "postal_address"})
SELECT_ACTIVE_HOLDS = (
    "SELECT id, models_held FROM retention_legalhold WHERE subject_id = %s AND lifted_at IS NULL"
)
SELECT_IDENTIFIERS = "SELECT id, value_index FROM privacy_subjectidentifier WHERE subject_id = %s"
SELECT_INQUIRIES = (
    f"SELECT id, {', '.join(INQUIRY_COLUMNS)} FROM contact_inquiry WHERE subject_id = %s"
)
SELECT_KEY = "SELECT master_key_id, wrapped_key FROM privacy_subjectkey WHERE subject_id = %s"
DELETE_IDENTIFIERS = "DELETE FROM privacy_subjectidentifier WHERE subject_id = %s"
DELETE_INQUIRIES = "DELETE FROM contact_inquiry WHERE subject_id = %s"
DELETE_KEY = "DELETE FROM privacy_subjectkey WHERE subject_id = %s"
INSERT_SHRED = "INSERT INTO privacy_shredrecord (subject_id, shredded_at) VALUES (%s, %s)"
LOCK_SUBJECT = "SELECT erased_at FROM privacy_datasubject WHERE id = %s"
MARK_ERASED = "UPDATE privacy_datasubject SET erased_at = %s, updated_at = %s WHERE id = %s"
LOCK_HEAD = "SELECT last_event_id, hash FROM privacy_audithead WHERE id = 1"
INSERT_EVENT = (
    "INSERT INTO privacy_auditevent (id, occurred_at, code, actor_kind, actor_id, subject_id, "
    "purpose, data, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
MOVE_HEAD = (
    "UPDATE privacy_audithead SET last_event_id = %s, hash = %s, updated_at = %s WHERE id = 1"
)
SUBJECT_ERASED, SUBJECT_KEY_SHREDDED = 101, 102
# Ciphertext layout, as in qualipact.privacy.vault: version byte, 12-byte nonce, sealed.
FORMAT_V1 = b"\x01"
NONCE = 12

Record = tuple[str, Any, tuple[tuple[str, Any], ...]]


# -- setup ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--subjects", type=int, default=DEFAULT_SUBJECTS, help="people to create")
    size.add_argument(
        "--large", action="store_const", const=LARGE_SUBJECTS, dest="subjects", help="100,000"
    )
    parser.add_argument("--samples", type=int, default=200, help="people timed per path")
    parser.add_argument("--keep", action="store_true", help="reuse an existing data set")
    parser.add_argument("--seed", type=int, default=2024, help="data and sampling seed")
    args = parser.parse_args(argv)
    if args.subjects < 1 or args.samples < 1:
        parser.error("--subjects and --samples must be positive")
    return args


def configure(subjects: int, *, keep: bool) -> Path:
    """Point Django at the bench's own data directory and start it."""
    var_dir = REPO / "var" / f"bench-{subjects}"
    if not keep:
        discard_data(var_dir)
    os.environ["QUALIPACT_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "qualipact.settings"
    os.environ["DEBUG"] = "0"
    sys.path.insert(0, str(REPO))
    django.setup()
    for alias in ("default", "keys"):
        call_command("migrate", database=alias, verbosity=0)
    return var_dir


def discard_data(var_dir: Path) -> None:
    """Delete the bench's SQLite files and cache, but not the secrets: data in a database
    named by DATABASE_URL may still need them."""
    for path in var_dir.glob("*"):
        if path.name == SECRETS_FILE:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def describe_database(alias: str) -> str:
    connection = connections[alias]
    version = ".".join(str(part) for part in connection.get_database_version())
    name = Path(str(connection.settings_dict["NAME"]))
    where = name.relative_to(REPO) if name.is_relative_to(REPO) else name.name
    return f"{alias}={connection.display_name} {version} ({where})"


def progress(iterable: Any = None, **kwargs: Any) -> tqdm:
    return tqdm(iterable, file=sys.stderr, disable=not sys.stderr.isatty(), **kwargs)


# -- data set -------------------------------------------------------------------------


def ensure_data(subjects: int, *, keep: bool, seed: int) -> str:
    """Create the people through the services unless --keep finds them; describe what ran."""
    from qualipact.privacy.models import DataSubject

    existing = DataSubject.objects.count()
    if existing and not keep:
        sys.exit(
            f"The database already holds {existing} subjects: pass --keep to reuse them, "
            "or point DATABASE_URL and KEYS_DATABASE_URL at empty databases."
        )
    if existing >= subjects:
        return f"reused {existing:,} existing subjects (--keep)"
    started = time.perf_counter()
    inquiries = create_subjects(existing, subjects, seed=seed)
    seconds = time.perf_counter() - started
    return (
        f"created {subjects - existing:,} subjects ({inquiries:,} inquiries) through "
        f"inquiry_submit in {seconds:.1f} s ({seconds / inquiries * 1000:.2f} ms per inquiry)"
    )


def create_subjects(start: int, stop: int, *, seed: int) -> int:
    """People `start` to `stop - 1`, each with 1-3 inquiries, in batched transactions."""
    from qualipact.contact.services import inquiry_submit
    from qualipact.privacy import vault

    fake = Faker(LOCALES)
    fake.seed_instance(seed + start)
    rng = random.Random(seed + start)
    inquiries = 0
    with progress(total=stop - start, unit="subject", desc="creating") as bar:
        for first in range(start, stop, BATCH):
            last = min(first + BATCH, stop)
            with transaction.atomic(using="default"), transaction.atomic(using="keys"):
                for index in range(first, last):
                    for submission in person_submissions(fake, rng, index):
                        inquiry_submit(**submission)
                        inquiries += 1
            bar.update(last - first)
    vault.key_cache_clear()
    return inquiries


def person_submissions(fake: Faker, rng: random.Random, index: int) -> list[dict[str, str]]:
    """One person's contact-form submissions; the index keeps every email unique."""
    name = fake.name()
    email = f"{fake.user_name()}.{index}@{fake.free_email_domain()}"
    phone = fake.phone_number()
    address = fake.address()
    kinds, weights = zip(*KINDS, strict=True)
    count = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
    return [
        {
            "kind": rng.choices(kinds, weights=weights)[0],
            "name": name,
            "email": email,
            "phone": phone if rng.random() < 0.4 else "",
            "postal_address": address if rng.random() < 0.25 else "",
            "subject_line": fake.sentence(nb_words=rng.randint(3, 8)).rstrip("."),
            "message": "\n\n".join(fake.paragraphs(nb=rng.randint(1, 3))),
        }
        for _ in range(count)
    ]


@dataclass
class Samples:
    lib_collect: list[uuid.UUID]
    raw_collect: list[uuid.UUID]
    lib_erase: list[uuid.UUID]
    raw_erase: list[uuid.UUID]
    bare_erase: list[uuid.UUID]
    warm_collect: list[uuid.UUID]
    warm_erase: list[uuid.UUID]
    intact: int


def draw_samples(samples: int, *, seed: int) -> Samples:
    """Distinct people, chosen at random among those not erased yet (one email each)."""
    from qualipact.privacy.models import SubjectIdentifier

    pool = list(
        SubjectIdentifier.objects.order_by("subject_id").values_list("subject_id", flat=True)
    )
    needed = 5 * samples + 3 * WARMUP
    if len(pool) < needed:
        sys.exit(f"Only {len(pool)} intact subjects left, {needed} needed: run without --keep.")
    chosen = random.Random(seed).sample(pool, needed)
    groups = [chosen[i * samples : (i + 1) * samples] for i in range(5)]
    warm = chosen[5 * samples :]
    return Samples(*groups, warm_collect=warm[:WARMUP], warm_erase=warm[WARMUP:], intact=len(pool))


# -- library path ---------------------------------------------------------------------


def library_collect(subject: Any) -> Any:
    from qualipact.privacy.selectors import subject_collect

    return subject_collect(subject)


def library_erase(subject: Any) -> Any:
    from qualipact.privacy.audit import Actor
    from qualipact.privacy.services import subject_erase

    return subject_erase(subject=subject, actor=Actor.system("bench"))


def library_records(subject: Any) -> list[Record]:
    data = library_collect(subject)
    return [
        (record.model, record.pk, tuple((f.name, f.value) for f in record.fields))
        for record in data.records
    ]


def subjects_by_id(ids: Sequence[uuid.UUID]) -> list[Any]:
    from qualipact.privacy.models import DataSubject

    found = DataSubject.objects.in_bulk(list(ids))
    return [found[subject_id] for subject_id in ids]


# -- raw-SQL path ---------------------------------------------------------------------


def db_uuid(alias: str, value: uuid.UUID) -> Any:
    """A UUID as the backend stores it: native where supported, else 32 hex characters."""
    return value if connections[alias].features.has_native_uuid_field else value.hex


def raw_key(subject_id: uuid.UUID) -> bytes:
    with connections["keys"].cursor() as cursor:
        cursor.execute(SELECT_KEY, [db_uuid("keys", subject_id)])
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no data key for subject {subject_id}")
    master_key_id, wrapped = row[0], bytes(row[1])
    aad = f"qualipact-vault-key|{master_key_id}|{subject_id}".encode()
    master = AESGCM(settings.VAULT_MASTER_KEYS[master_key_id])
    return master.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad)


def raw_decrypt(aead: AESGCM, subject_id: uuid.UUID, column: str, value: Any) -> str | None:
    if value is None:
        return None
    blob = bytes(value)
    if blob[:1] != FORMAT_V1:
        raise ValueError(f"unknown ciphertext format in contact_inquiry.{column}")
    aad = f"contact_inquiry.{column}|{subject_id}".encode()
    return aead.decrypt(blob[1 : 1 + NONCE], blob[1 + NONCE :], aad).decode()


def subject_condition(model: Any, path: str) -> tuple[str, int]:
    """SQL condition "this row belongs to the subject %s" along a lookup path such as
    "subject" or "user__subject", with a sub-select per hop; and the number of hops."""
    hop, _, rest = path.partition("__")
    field = model._meta.get_field(hop)
    if not rest:
        return f'"{field.column}" = %s', 0
    related = field.related_model
    inner, depth = subject_condition(related, rest)
    target = field.target_field.column
    condition = (
        f'"{field.column}" IN (SELECT "{target}" FROM "{related._meta.db_table}" WHERE {inner})'
    )
    return condition, depth + 1


def quoted(*columns: str) -> str:
    return ", ".join(f'"{column}"' for column in columns)


@functools.cache
def other_tables() -> list[tuple[str, str, str, bool]]:
    """(label, select, erase, deletes_row) for every declared table besides the two this
    data set fills. subject_collect and subject_erase visit every declared table, so the
    raw path does too: the same statements, on tables that hold nothing for the person."""
    from qualipact.privacy.registry import registry

    found = []
    for declaration in registry.subject_declarations():
        if declaration.label in (IDENTIFIER_LABEL, INQUIRY_LABEL):
            continue
        meta = declaration.model._meta
        condition, depth = subject_condition(declaration.model, str(declaration.subject_field))
        columns = [meta.get_field(name).column for name in declaration.fields]
        select = (
            f'SELECT {quoted(meta.pk.column, *columns)} FROM "{meta.db_table}" WHERE {condition}'
        )
        if declaration.deletes_row:
            erase = f'DELETE FROM "{meta.db_table}" WHERE {condition}'
        else:
            cleared = ", ".join(f'"{column}" = NULL' for column in columns)
            erase = f'UPDATE "{meta.db_table}" SET {cleared} WHERE {condition}'
        found.append((depth, declaration.label, select, erase, declaration.deletes_row))
    # Tables reached through a join first, so their rows go before the rows joined through.
    return [row[1:] for row in sorted(found, key=lambda row: -row[0])]


@functools.cache
def secret_fields(label: str) -> frozenset[str]:
    """The fields of a declared model that are secrets (`PersonalField(secret=True)`)."""
    from qualipact.privacy.registry import registry

    declaration = next(d for d in registry.subject_declarations() if d.label == label)
    return frozenset(name for name, spec in declaration.fields.items() if spec.secret)


def raw_collect(subject_id: uuid.UUID) -> list[Record]:
    with connections["default"].cursor() as cursor:
        cursor.execute(SELECT_IDENTIFIERS, [db_uuid("default", subject_id)])
        identifiers = cursor.fetchall()
        cursor.execute(SELECT_INQUIRIES, [db_uuid("default", subject_id)])
        inquiries = cursor.fetchall()
        for label, select, _, _ in other_tables():
            cursor.execute(select, [db_uuid("default", subject_id)])
            if cursor.fetchall():
                raise AssertionError(f"{label} holds rows the raw path does not decrypt")
    # A secret (a blind index) is read to know that one is stored, never handed out.
    hidden = secret_fields(IDENTIFIER_LABEL)
    records: list[Record] = [
        (IDENTIFIER_LABEL, pk, (("value_index", None if "value_index" in hidden else value),))
        for pk, value in identifiers
    ]
    if inquiries:
        aead = AESGCM(raw_key(subject_id))
        hidden = secret_fields(INQUIRY_LABEL)
        for pk, *values in inquiries:
            fields = tuple(
                (column, None)
                if column in hidden
                else (column, raw_decrypt(aead, subject_id, column, value))
                if column in INQUIRY_ENCRYPTED
                else (column, value)
                for column, value in zip(INQUIRY_COLUMNS, values, strict=True)
            )
            records.append((INQUIRY_LABEL, pk, fields))
    return records


def for_update(alias: str, sql: str) -> str:
    return sql + " FOR UPDATE" if connections[alias].features.has_select_for_update else sql


def raw_audit(cursor: Any, *, code: int, subject_id: uuid.UUID, data: dict[str, Any]) -> None:
    """Append one event to the chain by hand, in the caller's transaction."""
    connection = connections["default"]
    cursor.execute(for_update("default", LOCK_HEAD))
    last_id, prev_hash = cursor.fetchone()
    event_id, now = last_id + 1, timezone.now()
    body = {
        "id": event_id,
        "occurred_at": now.isoformat(timespec="microseconds"),
        "code": code,
        "actor_kind": "system",
        "actor_id": "bench",
        "subject_id": str(subject_id),
        "purpose": "",
        "data": data,
    }
    message = (
        prev_hash.encode()
        + b"\n"
        + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    )
    digest = hmac.new(settings.AUDIT_KEY, message, hashlib.sha256).hexdigest()
    when = connection.ops.adapt_datetimefield_value(now)
    payload = connection.ops.adapt_json_value(data, None)
    cursor.execute(
        INSERT_EVENT,
        [event_id, when, code, "system", "bench", db_uuid("default", subject_id), "", payload,
         prev_hash, digest],
    )  # fmt: skip
    cursor.execute(MOVE_HEAD, [event_id, digest, when])


def raw_erase(subject_id: uuid.UUID) -> None:
    """Everything subject_erase does, on raw cursors."""
    from qualipact.privacy.vault import EPOCH_CACHE_KEY

    main_id, keys_id = db_uuid("default", subject_id), db_uuid("keys", subject_id)
    ops = connections["default"].ops
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute(for_update("default", LOCK_SUBJECT), [main_id])
        cursor.fetchone()
        # Legal holds are honoured on every erasure: none is active in this data set.
        cursor.execute(SELECT_ACTIVE_HOLDS, [main_id])
        if cursor.fetchall():
            raise AssertionError("the bench's people have no legal hold")
        others = {}
        for label, _, erase, deletes_row in other_tables():
            cursor.execute(erase, [main_id])
            others[label] = {"action": "delete_row" if deletes_row else "update", "rows": 0}
        cursor.execute(DELETE_IDENTIFIERS, [main_id])
        identifiers = cursor.rowcount
        cursor.execute(DELETE_INQUIRIES, [main_id])
        inquiries = cursor.rowcount
        now = ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(MARK_ERASED, [now, now, main_id])
        models = {
            **others,
            IDENTIFIER_LABEL: {"action": "delete_row", "rows": identifiers},
            INQUIRY_LABEL: {"action": "delete_row", "rows": inquiries},
        }
        raw_audit(cursor, code=SUBJECT_ERASED, subject_id=subject_id, data={"models": models})
    shredded_at = connections["keys"].ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(using="keys"), connections["keys"].cursor() as cursor:
        cursor.execute(DELETE_KEY, [keys_id])
        existed = cursor.rowcount > 0
        cursor.execute(INSERT_SHRED, [keys_id, shredded_at])
    cache.set(EPOCH_CACHE_KEY, uuid.uuid4().hex, None)
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        raw_audit(
            cursor, code=SUBJECT_KEY_SHREDDED, subject_id=subject_id, data={"key_existed": existed}
        )


def raw_erase_bare(subject_id: uuid.UUID) -> None:
    """Rows and key only: no erased marker, no audit, no epoch. For information."""
    main_id, keys_id = db_uuid("default", subject_id), db_uuid("keys", subject_id)
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute(DELETE_IDENTIFIERS, [main_id])
        cursor.execute(DELETE_INQUIRIES, [main_id])
    shredded_at = connections["keys"].ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(using="keys"), connections["keys"].cursor() as cursor:
        cursor.execute(DELETE_KEY, [keys_id])
        cursor.execute(INSERT_SHRED, [keys_id, shredded_at])


# -- measurement ----------------------------------------------------------------------


def timed_ms(call: Callable[[Any], Any], argument: Any) -> float:
    from qualipact.privacy import vault

    vault.key_cache_clear()
    started = time.perf_counter()
    call(argument)
    return (time.perf_counter() - started) * 1000


def paired(
    library: tuple[Callable[[Any], Any], Sequence[Any]],
    raw: tuple[Callable[[Any], Any], Sequence[Any]],
    desc: str,
) -> tuple[list[float], list[float]]:
    """Time both paths in turn, alternating which goes first, so drift hits both alike."""
    library_ms: list[float] = []
    raw_ms: list[float] = []
    pairs = list(zip(library[1], raw[1], strict=True))
    for i, (library_arg, raw_arg) in enumerate(progress(pairs, desc=desc, unit="pair")):
        turns = [
            (library_ms, library[0], library_arg),
            (raw_ms, raw[0], raw_arg),
        ]
        for times, call, argument in turns if i % 2 == 0 else reversed(turns):
            times.append(timed_ms(call, argument))
    return library_ms, raw_ms


def warm_up(samples: Samples) -> None:
    """Compile queries, open connections and load lazy modules before any timing."""
    for subject in subjects_by_id(samples.warm_collect):
        library_collect(subject)
        raw_collect(subject.pk)
    for subject in subjects_by_id(samples.warm_erase[:WARMUP]):
        library_erase(subject)
    for subject_id in samples.warm_erase[WARMUP:]:
        raw_erase(subject_id)


def normalised(records: list[Record]) -> list[Record]:
    """Records with UUID primary keys as text (the raw driver returns them as stored)."""

    return sorted((model, str(uuid.UUID(str(pk))), fields) for model, pk, fields in records)


def verify_same_values(subject_ids: Sequence[uuid.UUID]) -> int:
    """Assert the raw path decrypts exactly what subject_collect returns; count the records."""
    checked, optional_seen = 0, set()
    for subject in subjects_by_id(subject_ids):
        library, raw = normalised(library_records(subject)), normalised(raw_collect(subject.pk))
        assert library == raw, f"raw SQL and subject_collect disagree for {subject.pk}"
        assert any(model == INQUIRY_LABEL for model, _, _ in raw), f"{subject.pk} has no inquiry"
        checked += len(raw)
        optional_seen |= {
            name
            for _, _, fields in raw
            for name, value in fields
            if name in INQUIRY_OPTIONAL and value is not None
        }
    assert optional_seen == INQUIRY_OPTIONAL, "no verified inquiry has a phone and an address"
    return checked


@dataclass
class Result:
    operation: str
    library_ms: list[float]
    raw_ms: list[float]

    @staticmethod
    def median_p95(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), statistics.quantiles(values, n=20)[-1]

    def row(self) -> tuple[str, float, float, float, float, float, float]:
        lib_median, lib_p95 = self.median_p95(self.library_ms)
        raw_median, raw_p95 = self.median_p95(self.raw_ms)
        return (
            self.operation,
            lib_median,
            lib_p95,
            raw_median,
            raw_p95,
            lib_p95 / raw_p95,
            lib_median / raw_median,
        )


def measure(samples: Samples) -> Iterator[Result]:
    warm_up(samples)
    library_ms, raw_ms = paired(
        (library_collect, subjects_by_id(samples.lib_collect)),
        (raw_collect, samples.raw_collect),
        desc="collect",
    )
    yield Result("collect", library_ms, raw_ms)
    library_ms, raw_ms = paired(
        (library_erase, subjects_by_id(samples.lib_erase)),
        (raw_erase, samples.raw_erase),
        desc="erase",
    )
    yield Result("erase", library_ms, raw_ms)
    bare_ms = [timed_ms(raw_erase_bare, subject_id) for subject_id in samples.bare_erase]
    yield Result("erase vs bare rows+key delete (info)", library_ms, bare_ms)


# -- report ---------------------------------------------------------------------------

COLUMNS = (
    "operation",
    "library median ms",
    "library p95 ms",
    "raw SQL median ms",
    "raw SQL p95 ms",
    "ratio p95",
    "ratio median",
)


def print_table(results: list[Result]) -> None:
    widths = [len(title) for title in COLUMNS]
    print(" | ".join(COLUMNS))
    print("-|-".join("-" * width for width in widths))
    for result in results:
        name, *times, p95_ratio, median_ratio = result.row()
        cells = [name, *(f"{value:.3f}" for value in times), f"{p95_ratio:.2f}x"]
        cells.append(f"{median_ratio:.2f}x")
        print(" | ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True)))


def print_verdicts(results: list[Result]) -> None:
    print(f"target: library within {TARGET_RATIO:g}x of raw SQL plus decryption")
    for result in results:
        *_, p95_ratio, median_ratio = result.row()
        for label, ratio in (("p95", p95_ratio), ("median", median_ratio)):
            verdict = "meets the target" if ratio <= TARGET_RATIO else "MISSES the target"
            print(f"  {result.operation} {label} ratio {ratio:.2f}x: {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    var_dir = configure(args.subjects, keep=args.keep)
    print(f"data directory: {var_dir.relative_to(REPO)}")
    print("databases: " + ", ".join(describe_database(alias) for alias in ("default", "keys")))
    print(f"data: {ensure_data(args.subjects, keep=args.keep, seed=args.seed)}")
    samples = draw_samples(args.samples, seed=args.seed)
    results = list(measure(samples))
    records = verify_same_values(samples.raw_collect)
    engine = connections["default"].display_name
    print(
        f"\nsubjects {args.subjects:,} ({samples.intact:,} intact before sampling) | "
        f"samples {args.samples} per path and operation | database {engine} | "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} | "
        f"Python {platform.python_version()} | Django {django.get_version()}"
    )
    print(
        f"verified: raw SQL decrypts the same {records} records as subject_collect "
        f"for the {len(samples.raw_collect)} raw-collect subjects\n"
    )
    print_table(results)
    print()
    print_verdicts(results[:2])
    print(
        "the bare row is for information: it skips the erased marker, both audit events "
        "and the shred epoch that an erasure must write."
    )
    from qualipact.privacy.audit import audit_verify

    report = audit_verify()
    print(f"audit chain after both paths: {report}")
    if not report.ok:
        sys.exit("the raw-SQL path wrote a broken audit chain: its numbers are not comparable")


if __name__ == "__main__":
    main()

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

import itertools
import random
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connections
from faker import Faker
from harness import (
    Result,
    Samples,
    Table,
    audit_chain_check,
    batches,
    db_uuid,
    draw_samples,
    library_erase,
    paired,
    parse_args,
    print_sampled_run,
    print_table,
    raw_decrypt,
    raw_erase,
    raw_erase_bare,
    raw_key,
    raw_tables,
    start,
    subjects_by_id,
    timed_ms,
)

DEFAULT_SUBJECTS = 10_000
LARGE_SUBJECTS = 100_000
TARGET_RATIO = 5.0
WARMUP = 5
BATCH = 250
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
FULL_EVERY = 5  # every fifth person gives both optional fields in their first inquiry
SELECT_IDENTIFIERS = "SELECT id, value_index FROM privacy_subjectidentifier WHERE subject_id = %s"
SELECT_INQUIRIES = (
    f"SELECT id, {', '.join(INQUIRY_COLUMNS)} FROM contact_inquiry WHERE subject_id = %s"
)

Record = tuple[str, Any, tuple[tuple[str, Any], ...]]


# -- data set -------------------------------------------------------------------------


def create_subjects(start: int, stop: int, *, seed: int) -> str:
    """People `start` to `stop - 1`, each with 1-3 inquiries through `inquiry_submit`, so
    every row is encrypted exactly as real data is."""
    from qualipact.contact.services import inquiry_submit
    from qualipact.privacy import vault

    fake = Faker(LOCALES)
    fake.seed_instance(seed + start)
    rng = random.Random(seed + start)
    inquiries = 0
    for indexes in batches(start, stop, BATCH):
        for index in indexes:
            for submission in person_submissions(fake, rng, index):
                inquiry_submit(**submission)
                inquiries += 1
    vault.key_cache_clear()
    return f"{inquiries:,} inquiries through inquiry_submit"


def person_submissions(fake: Faker, rng: random.Random, index: int) -> list[dict[str, str]]:
    """One person's contact-form submissions; the index keeps every email unique. Every
    `FULL_EVERY`th person's first inquiry carries a phone and an address, so any data set
    holds rows whose optional fields the raw path must decrypt."""
    name = fake.name()
    email = f"{fake.user_name()}.{index}@{fake.free_email_domain()}"
    phone = fake.phone_number()
    address = fake.address()
    kinds, weights = zip(*KINDS, strict=True)
    count = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
    submissions = [
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
    if index % FULL_EVERY == 0:
        submissions[0] |= {"phone": phone, "postal_address": address}
    return submissions


GROUPS = ("lib_collect", "raw_collect", "lib_erase", "raw_erase", "bare_erase")


def draw(samples: int, *, seed: int) -> Samples:
    """Distinct people, chosen at random among those not erased yet (one email each); the
    spare ones warm up: WARMUP collects, then WARMUP erasures on each path."""
    from qualipact.privacy.models import SubjectIdentifier

    pool = SubjectIdentifier.objects.order_by("subject_id").values_list("subject_id", flat=True)
    return draw_samples(list(pool), GROUPS, samples=samples, spare=3 * WARMUP, seed=seed)


# -- library path ---------------------------------------------------------------------


def library_collect(subject: Any) -> Any:
    from qualipact.privacy.selectors import subject_collect

    return subject_collect(subject)


def library_records(subject: Any) -> list[Record]:
    data = library_collect(subject)
    return [
        (record.model, record.pk, tuple((f.name, f.value) for f in record.fields))
        for record in data.records
    ]


# -- raw-SQL path ---------------------------------------------------------------------


def raw_collect(tables: Sequence[Table], subject_id: uuid.UUID) -> list[Record]:
    main_id = db_uuid("default", subject_id)
    with connections["default"].cursor() as cursor:
        cursor.execute(SELECT_IDENTIFIERS, [main_id])
        identifiers = cursor.fetchall()
        cursor.execute(SELECT_INQUIRIES, [main_id])
        inquiries = cursor.fetchall()
        # subject_collect visits every declared table, so the raw path does too.
        for table in tables:
            if table.label in (IDENTIFIER_LABEL, INQUIRY_LABEL):
                continue
            cursor.execute(table.select, [main_id])
            if cursor.fetchall():
                raise AssertionError(f"{table.label} holds rows the raw path does not decrypt")
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
                else (
                    column,
                    raw_decrypt(
                        aead, table="contact_inquiry", column=column, subject_id=subject_id,
                        value=value,
                    ),
                )
                if column in INQUIRY_ENCRYPTED
                else (column, value)
                for column, value in zip(INQUIRY_COLUMNS, values, strict=True)
            )  # fmt: skip
            records.append((INQUIRY_LABEL, pk, fields))
    return records


def secret_fields(label: str) -> frozenset[str]:
    """The fields of a declared model that are secrets (`PersonalField(secret=True)`)."""
    from qualipact.privacy.registry import registry

    declaration = next(d for d in registry.subject_declarations() if d.label == label)
    return frozenset(name for name, spec in declaration.fields.items() if spec.secret)


# -- measurement ----------------------------------------------------------------------


def warm_up(tables: Sequence[Table], samples: Samples) -> None:
    """Compile queries, open connections and load lazy modules before any timing."""
    for subject in subjects_by_id(samples.spare[:WARMUP]):
        library_collect(subject)
        raw_collect(tables, subject.pk)
    for subject in subjects_by_id(samples.spare[WARMUP : 2 * WARMUP]):
        library_erase(subject)
    for subject_id in samples.spare[2 * WARMUP :]:
        raw_erase(tables, subject_id)


def normalised(records: list[Record]) -> list[Record]:
    """Records with UUID primary keys as text (the raw driver returns them as stored)."""
    return sorted((model, str(uuid.UUID(str(pk))), fields) for model, pk, fields in records)


def verify_same_values(tables: Sequence[Table], samples: Samples) -> tuple[int, int]:
    """Assert the raw path decrypts exactly what subject_collect returns for the raw-collect
    subjects, then for intact people in id order until some inquiry with a phone and an
    address has been compared too (random samples may hold none). Returns (records, people)."""
    from qualipact.privacy.models import SubjectIdentifier

    erased = set(samples["lib_erase"]) | set(samples["raw_erase"]) | set(samples.spare)
    sampled = list(samples["raw_collect"])
    others = (
        SubjectIdentifier.objects.exclude(subject_id__in=erased | set(sampled))
        .order_by("subject_id")
        .values_list("subject_id", flat=True)
        .iterator()
    )
    checked, people, optional_seen = 0, 0, set()
    for position, subject_id in enumerate(itertools.chain(sampled, others)):
        if position >= len(sampled) and optional_seen == INQUIRY_OPTIONAL:
            break
        (subject,) = subjects_by_id([subject_id])
        library = normalised(library_records(subject))
        raw = normalised(raw_collect(tables, subject.pk))
        assert library == raw, f"raw SQL and subject_collect disagree for {subject.pk}"
        assert any(model == INQUIRY_LABEL for model, _, _ in raw), f"{subject.pk} has no inquiry"
        checked, people = checked + len(raw), people + 1
        optional_seen |= {
            name
            for _, _, fields in raw
            for name, value in fields
            if name in INQUIRY_OPTIONAL and value is not None
        }
    assert optional_seen == INQUIRY_OPTIONAL, "no inquiry has a phone and an address"
    return checked, people


def measure(tables: Sequence[Table], samples: Samples) -> Iterator[Result]:
    warm_up(tables, samples)
    library_ms, raw_ms = paired(
        (library_collect, subjects_by_id(samples["lib_collect"])),
        (lambda subject_id: raw_collect(tables, subject_id), samples["raw_collect"]),
        desc="collect",
    )
    yield Result("collect", library_ms, raw_ms)
    library_ms, raw_ms = paired(
        (library_erase, subjects_by_id(samples["lib_erase"])),
        (lambda subject_id: raw_erase(tables, subject_id), samples["raw_erase"]),
        desc="erase",
    )
    yield Result("erase", library_ms, raw_ms)
    bare_ms = [timed_ms(lambda s: raw_erase_bare(tables, s), s) for s in samples["bare_erase"]]
    yield Result("erase vs bare rows+key delete (info)", library_ms, bare_ms)


# -- report ---------------------------------------------------------------------------


def print_verdicts(results: list[Result]) -> None:
    print(f"target: library within {TARGET_RATIO:g}x of raw SQL plus decryption")
    for result in results:
        *_, p95_ratio, median_ratio = result.row()
        for label, ratio in (("p95", p95_ratio), ("median", median_ratio)):
            verdict = "meets the target" if ratio <= TARGET_RATIO else "MISSES the target"
            print(f"  {result.operation} {label} ratio {ratio:.2f}x: {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        argv,
        description=__doc__ or "",
        default=DEFAULT_SUBJECTS,
        large=LARGE_SUBJECTS,
        samples=200,
    )
    start(
        f"bench-{args.subjects}",
        args,
        create=lambda first, stop: create_subjects(first, stop, seed=args.seed),
    )
    tables = raw_tables()
    samples = draw(args.samples, seed=args.seed)
    results = list(measure(tables, samples))
    records, people = verify_same_values(tables, samples)
    print_sampled_run(args, samples)
    print(
        f"verified: raw SQL decrypts the same {records} records as subject_collect "
        f"for {people} people: the {len(samples['raw_collect'])} raw-collect subjects, then "
        "intact people until an inquiry with a phone and an address was among them\n"
    )
    print_table(results)
    print()
    print_verdicts(results[:2])
    print(
        "the bare row is for information: it skips the erased marker, both audit events "
        "and the shred epoch that an erasure must write."
    )
    audit_chain_check()


if __name__ == "__main__":
    main()

"""Benchmark of the rights exports and erasure: one person's access export and erasure,
library against raw SQL.

Run from the repository root:

    .venv/bin/python bench/rights.py                     # 100,000 subjects, 200 samples
    .venv/bin/python bench/rights.py --subjects 5000 --samples 100
    .venv/bin/python bench/rights.py --keep              # reuse the data set of a former run

The data lives in var/bench-rights-<N>/ (secrets, SQLite files, cache), never in the
developer's var/ data; without --keep its databases and cache are deleted first (the
generated secrets are kept). DATABASE_URL / KEYS_DATABASE_URL are honoured; such a
database must be empty unless --keep is given. DEBUG is forced off.

Each person gets about 22 rows across the declared models (an account with its
preferences and two sessions, two contact inquiries, consent events and states, three
outbox emails, a newsletter sign-up, topic preferences, offer views, a location and the
email identifier), written with bulk_create in batches: the model fields encrypt and
blind-index exactly as in normal saves, under a data key per person.

Measured for random people, in the same process, alternating which path goes first:
- export: `export_build(kind="access")` (audited registry read, decryption, data.json
  with the Art 15 information, schema, CSVs, HTML summary, zip), against raw SQL:
  hand-written SELECTs of the same rows and columns, key unwrap, decryption, then a zip
  of the same file contents (the library's files for that person, made beforehand and
  not timed). The raw path thus neither audits nor writes JSON, CSV or HTML.
- erase: `subject_erase`, against the same work on raw cursors (lock the person, DELETE
  their rows, clear the fields of the rows the law keeps, mark them erased, append the
  chained audit event, DELETE the key, INSERT the shred record, publish a new shred
  epoch, append the second audit event).
- erasure request: `rights.services.fulfil.request_fulfil` for a verified erasure request (made
  beforehand, untimed), as the worker runs it: the receipt's address decrypted, the
  request locked, legal holds read, the erasure, the request completed with its two
  audit events, the key shred and the receipt sent (to Django's in-memory mail backend);
  against the same steps on raw cursors.
A last row, for information, compares the erasure with a bare DELETE of the rows and
the key row plus the shred record. The in-process key cache is cleared before every call.

SQLite's write-ahead log: the settings raise the automatic checkpoint to 10,000 pages
and the worker checkpoints every minute (privacy.tasks.sqlite_checkpoint), so a request
no longer pays for copying the log back into the database each 1,000 pages (an erasure
writes about 100). The bench does what production does: it checkpoints once before the
timing (where the worker's last run would have left the log) and runs the same
checkpoint in a background thread on the beat schedule while it times; the automatic
checkpoint still fires inside the timed calls when the log reaches 10,000 pages.
Targets (issue 4): export p95 under 50 ms, erasure p95 under 20 ms, within 5x of raw SQL.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import threading
import time
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from harness import (
    Result,
    Rows,
    Samples,
    Table,
    analyze,
    audit_chain_check,
    batches,
    db_uuid,
    draw_samples,
    for_update,
    library_erase,
    paired,
    parse_args,
    print_sampled_run,
    print_table,
    raw_audit,
    raw_decrypt,
    raw_erase,
    raw_erase_bare,
    raw_key,
    raw_mark_erased,
    raw_shred,
    raw_tables,
    start,
    subjects_by_id,
    timed_ms,
)

DEFAULT_SUBJECTS = 100_000
BATCH = 1000
WARMUP = 5
EXPORT_TARGET_MS = 50.0
ERASE_TARGET_MS = 20.0
TARGET_RATIO = 5.0
# Audit codes the request path writes (qualipact.rights.events.RightsCode).
REQUEST_STATUS_CHANGED, REQUEST_COMPLETED = 803, 805
TOPICS = ("privacy", "security", "events", "design", "travel", "science")
OFFERS = 8


# -- data set -------------------------------------------------------------------------


@dataclass
class Catalogue:
    topics: list[Any]
    offers: list[Any]
    wordings: dict[str, Any]
    password: str
    names: list[str]
    addresses: list[str]
    sentences: list[str]
    paragraphs: list[str]


def catalogue(seed: int) -> Catalogue:
    """Topics, offers and the words people are drawn from (Faker once, not per row)."""
    from django.contrib.auth.hashers import make_password
    from faker import Faker

    from qualipact.consent.selectors import consent_wording_current
    from qualipact.offers.models import Offer
    from qualipact.offers.services import topic_get_or_create

    fake = Faker(["en_GB", "de_DE", "fr_FR", "nl_NL", "en_US"])
    fake.seed_instance(seed)
    topics = [topic_get_or_create(slug=slug) for slug in TOPICS]
    offers = []
    for index in range(OFFERS):
        offer, _ = Offer.objects.get_or_create(
            slug=f"bench-offer-{index}",
            defaults={
                "title": f"Bench offer {index}",
                "kind": "article",
                "summary": "An offer people look at in the benchmark.",
                "published": True,
            },
        )
        offers.append(offer)
    wordings = {
        purpose: consent_wording_current(purpose)
        for purpose in ("marketing", "personalised_offers")
    }
    return Catalogue(
        topics=topics,
        offers=offers,
        wordings=wordings,
        password=make_password("correct horse battery staple 42"),
        names=[fake.name() for _ in range(2000)],
        addresses=[fake.address() for _ in range(1000)],
        sentences=[fake.sentence(nb_words=6).rstrip(".") for _ in range(1000)],
        paragraphs=["\n\n".join(fake.paragraphs(nb=2)) for _ in range(500)],
    )


def create_people(start: int, stop: int, *, seed: int) -> str:
    cat = catalogue(seed)
    rng = random.Random(seed + start)
    rows = 0
    for indexes in batches(start, stop, BATCH):
        rows += create_batch(indexes, cat, rng)
    analyze()
    return f"{rows:,} rows, {rows / (stop - start):.1f} each"


def create_batch(indexes: range, cat: Catalogue, rng: random.Random) -> int:
    """One batch of people: subjects, keys, then every model's rows."""
    from qualipact.accounts.models import AccountSession, Preferences, User
    from qualipact.comms.models import NewsletterSignup, OutboundEmail
    from qualipact.consent.models import Channel, ConsentEvent, ConsentState
    from qualipact.contact.models import Inquiry
    from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
    from qualipact.privacy import vault
    from qualipact.privacy.models import SubjectIdentifier

    rows = Rows()
    write, now = rows.add, rows.now
    for index in indexes:
        subject_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        key = rows.subject(subject_id)
        name = rng.choice(cat.names)
        email = f"person.{index}@example.org"
        tag = hashlib.sha256(str(subject_id).encode()).hexdigest()
        since = now - timedelta(days=rng.randint(1, 300))
        mine = {"subject": subject_id}
        write(
            SubjectIdentifier,
            {**mine, "kind": "email", "value_index": vault.blind_index("email", email)},
        )
        user_values = {
            **mine,
            "username": f"person{index}",
            "email": email,
            "password": cat.password,
            "email_verified_at": since,
            "last_login": now - timedelta(hours=rng.randint(1, 500)),
        }
        write(User, user_values, key)
        write(Preferences, {**mine, "channel_site": rng.random() < 0.5})
        for n in range(2):
            session = {
                **mine,
                "session_key": uuid.uuid4().hex,
                "session_key_hash": hashlib.sha256(f"{tag}-session-{n}".encode()).hexdigest(),
                "device": rng.choice(("Firefox on Linux", "Safari on iOS", "Chrome on Windows")),
                "country": rng.choice(("GB", "DE", "FR", "NL", "US")),
                "device_hash": hashlib.sha256(f"{tag}-device-{n}".encode()).hexdigest(),
                "signed_in_at": since,
                "last_seen_at": now,
            }
            write(AccountSession, session, key)
        for n in range(2):
            inquiry = {
                **mine,
                "kind": rng.choice(("general", "privacy", "complaint")),
                "name": name,
                "email": email,
                "phone": f"+44 20 7946 {rng.randint(0, 9999):04d}" if n == 0 else None,
                "postal_address": rng.choice(cat.addresses) if rng.random() < 0.3 else None,
                "subject_line": rng.choice(cat.sentences),
                "message": rng.choice(cat.paragraphs),
            }
            write(Inquiry, inquiry, key)
        for purpose, action in (
            ("marketing", "grant"),
            ("personalised_offers", "grant"),
            ("marketing", "withdraw"),
            ("analytics", "object"),
        ):
            wording = cat.wordings.get(purpose) if action == "grant" else None
            event = {
                **mine,
                "purpose": purpose,
                "action": action,
                "channel": Channel.PREFERENCE_CENTRE,
                "policy_version": 1,
                "wording": wording.pk if wording else None,
                "occurred_at": since,
            }
            write(ConsentEvent, event)
        write(ConsentState, {**mine, "purpose": "marketing", "granted": False})
        offers_wording = cat.wordings["personalised_offers"].pk
        write(
            ConsentState,
            {**mine, "purpose": "personalised_offers", "granted": True, "wording": offers_wording},
        )
        for n in range(3):
            email_row = {
                **mine,
                "kind": "service",
                "status": "sent",
                "sent_at": since,
                "to": email,
                "subject_line": rng.choice(cat.sentences),
                "body": rng.choice(cat.paragraphs),
                "headers": json.dumps({"X-Bench": str(n)}) if n == 0 else None,
                "message_id": f"<{tag}.{n}@bench.qualipact.example>",
            }
            write(OutboundEmail, email_row, key)
        signup = {
            **mine,
            "email": email,
            "wording": cat.wordings["marketing"].pk,
            "confirmation_hash": hashlib.sha256(f"{tag}-newsletter".encode()).hexdigest(),
            "confirm_by": since + timedelta(days=7),
            "confirmed_at": since,
        }
        write(NewsletterSignup, signup, key)
        for topic in rng.sample(cat.topics, 2):
            write(TopicPreference, {**mine, "topic": topic.pk})
        for offer in rng.sample(cat.offers, 2):
            write(BrowsingEvent, {**mine, "offer": offer.pk, "viewed_at": since})
        location = {**mine, "method": "ip_country", "country": "GB", "recorded_at": now}
        write(LocationFix, location, key)
    return rows.flush()


# -- library path ---------------------------------------------------------------------


def library_export(subject: Any) -> Any:
    from qualipact.privacy.audit import Actor
    from qualipact.rights.services import export_build

    return export_build(subject=subject, kind="access", actor=Actor.system("bench"))


def library_request_erase(ids: tuple[uuid.UUID, uuid.UUID]) -> Any:
    from qualipact.rights.services import request_fulfil

    return request_fulfil(request_id=ids[1])


def erasure_requests(subject_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """A verified erasure request from each person's account, waiting for fulfilment, as
    the web view leaves it (made before the timing; the broker message is not sent)."""
    from qualipact.privacy.audit import Actor
    from qualipact.rights.models import DataRequest
    from qualipact.rights.services import request_submit

    pairs = []
    for subject in subjects_by_id(subject_ids):
        request = request_submit(
            subject=subject,
            kind=DataRequest.Kind.ERASURE,
            channel=DataRequest.Channel.ACCOUNT,
            actor=Actor.subject(subject.pk),
            verified=False,  # no broker message: the bench calls the fulfilment itself
        )
        DataRequest.objects.filter(pk=request.pk).update(
            status=DataRequest.Status.IN_PROGRESS, verified_at=timezone.now()
        )
        pairs.append((subject.pk, request.pk))
    return pairs


def requests_done(pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> int:
    """Every timed request completed and every key shredded; returns how many."""
    from qualipact.privacy.models import ShredRecord
    from qualipact.rights.models import DataRequest

    request_ids = [request_id for _, request_id in pairs]
    completed = DataRequest.objects.filter(
        pk__in=request_ids, status=DataRequest.Status.COMPLETED, outcome__complete=True
    ).count()
    shredded = (
        ShredRecord.objects.using("keys")
        .filter(subject_id__in=[subject_id for subject_id, _ in pairs])
        .count()
    )
    assert completed == shredded == len(pairs), (completed, shredded, len(pairs))
    return completed


# -- raw-SQL path ---------------------------------------------------------------------


def raw_gather(tables: list[Table], subject_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every declared row of the person, decrypted: {table label: [{column: value}]}."""
    gathered: dict[str, list[dict[str, Any]]] = {}
    aead: AESGCM | None = None
    main_id = db_uuid("default", subject_id)
    with connections["default"].cursor() as cursor:
        for table in tables:
            cursor.execute(table.select, [main_id])
            found = cursor.fetchall()
            if not found:
                continue
            records = []
            for pk, *values in found:
                record: dict[str, Any] = {"id": str(pk)}
                for column, value in zip(table.columns, values, strict=True):
                    if column in table.encrypted and value is not None:
                        if aead is None:
                            aead = AESGCM(raw_key(subject_id))
                        value = raw_decrypt(
                            aead, table=table.table, column=column, subject_id=subject_id,
                            value=value,
                        )  # fmt: skip
                    record[column] = value
                records.append(record)
            gathered[table.label] = records
    return gathered


def raw_export(tables: list[Table], subject_id: uuid.UUID, members: dict[str, bytes]) -> bytes:
    """Gather the person's rows, then zip the same file contents the library produced for
    them (computed beforehand, untimed): the floor of reading the rows and writing the zip."""
    raw_gather(tables, subject_id)
    output = io.BytesIO()
    stamp = timezone.now().astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content, zipfile.ZIP_DEFLATED)
    return output.getvalue()


def export_members(subject_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, bytes]]:
    """The files of each person's export, for the raw path to zip."""
    members = {}
    for subject in subjects_by_id(subject_ids):
        with zipfile.ZipFile(io.BytesIO(library_export(subject).zip_bytes)) as archive:
            members[subject.pk] = {name: archive.read(name) for name in archive.namelist()}
    return members


def raw_address(subject_id: uuid.UUID) -> str | None:
    """The account's email address, decrypted (where the erasure receipt goes)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            'SELECT "email" FROM "accounts_user" WHERE "subject_id" = %s',
            [db_uuid("default", subject_id)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    aead = AESGCM(raw_key(subject_id))
    return raw_decrypt(
        aead, table="accounts_user", column="email", subject_id=subject_id, value=row[0]
    )


def raw_request_erase(tables: list[Table], ids: tuple[uuid.UUID, uuid.UUID]) -> None:
    """What rights.services.fulfil does for an erasure request, on raw cursors: the receipt's
    address, the request locked, the legal holds read, the erasure, the request completed
    with two audit events, the key shredded, the receipt sent."""
    from django.core.mail import send_mail

    from qualipact.retention.models import LegalHold
    from qualipact.rights.models import DataRequest

    subject_id, request_id = ids
    main_id, request_pk = db_uuid("default", subject_id), db_uuid("default", request_id)
    requests, holds = DataRequest._meta.db_table, LegalHold._meta.db_table
    address = raw_address(subject_id)
    ops = connections["default"].ops
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute(
            for_update("default", f'SELECT "status" FROM "{requests}" WHERE "id" = %s'),
            [request_pk],
        )
        assert cursor.fetchone()[0] == "in_progress"
        cursor.execute(
            f'SELECT "id" FROM "{holds}" WHERE "subject_id" = %s AND "lifted_at" IS NULL',
            [main_id],
        )
        assert not cursor.fetchall()
        models = raw_mark_erased(cursor, tables, subject_id)
        outcome = {"erased": sorted(models), "kept": {}, "complete": True}
        now = ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            f'UPDATE "{requests}" SET "status" = %s, "completed_at" = %s, "outcome" = %s, '
            '"updated_at" = %s WHERE "id" = %s',
            ["completed", now, ops.adapt_json_value(outcome, None), now, request_pk],
        )
        data = {"request_id": str(request_id)}
        raw_audit(
            cursor,
            code=REQUEST_STATUS_CHANGED,
            subject_id=subject_id,
            data={**data, "from": "in_progress", "to": "completed"},
        )
        raw_audit(
            cursor, code=REQUEST_COMPLETED, subject_id=subject_id, data={**data, "kind": "erasure"}
        )
    raw_shred(subject_id)
    if address:
        receipt = "We erased your data. What was erased:\n" + "\n".join(sorted(models))
        send_mail("Your data was erased: your receipt", receipt, None, [address])


# -- measurement ----------------------------------------------------------------------


GROUPS = (
    "lib_export", "raw_export", "lib_erase", "raw_erase", "bare_erase", "lib_request",
    "raw_request",
)  # fmt: skip


def draw(samples: int, *, seed: int) -> Samples:
    """Distinct people, chosen at random among those not erased yet; 5 x WARMUP spare ones
    warm up each path."""
    from qualipact.privacy.models import DataSubject, ShredRecord

    # The bare path leaves no erased marker: its people are known by their shred record.
    shredded = set(ShredRecord.objects.using("keys").values_list("subject_id", flat=True))
    pool = [
        subject_id
        for subject_id in DataSubject.objects.filter(erased_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
        if subject_id not in shredded
    ]
    return draw_samples(pool, GROUPS, samples=samples, spare=5 * WARMUP, seed=seed)


def verify(tables: list[Table], subject_ids: Sequence[uuid.UUID]) -> int:
    """The raw path gathers exactly the records and decrypted texts the export contains."""
    from qualipact.rights.services.exports import DATA_FILE

    checked = 0
    for subject in subjects_by_id(subject_ids):
        with zipfile.ZipFile(io.BytesIO(library_export(subject).zip_bytes)) as archive:
            document = json.loads(archive.read(DATA_FILE))
        exported = {
            (record["model"], str(uuid.UUID(record["id"]))): {
                entry["field"]: entry["value"]
                for entry in record["fields"]
                if "withheld" not in entry  # credentials are listed, not exported
            }
            for record in document["records"]
        }
        gathered = raw_gather(tables, subject.pk)
        raw = {
            (label, str(uuid.UUID(record["id"]))): record
            for label, records in gathered.items()
            for record in records
        }
        assert set(exported) == set(raw), f"export and raw SQL disagree on records of {subject.pk}"
        for table in tables:
            names = dict(zip(table.columns, _field_names(table.label), strict=True))
            for (label, pk), record in raw.items():
                if label != table.label:
                    continue
                for column in table.encrypted:
                    if names[column] not in exported[(label, pk)]:
                        continue
                    assert record[column] == exported[(label, pk)][names[column]], (
                        f"{label}.{column} differs for {subject.pk}"
                    )
        checked += len(raw)
    return checked


def _field_names(label: str) -> list[str]:
    from qualipact.privacy.registry import registry

    return next(list(d.fields) for d in registry.subject_declarations() if d.label == label)


class Checkpointer(threading.Thread):
    """The worker's periodic SQLite checkpoint (privacy.tasks.sqlite_checkpoint) on its beat
    schedule, run in a background thread as the worker runs it beside the web server."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.interval = float(settings.CELERY_BEAT_SCHEDULE["sqlite-checkpoint"]["schedule"])
        self.stopping = threading.Event()
        self.runs_ms: list[float] = []

    def run(self) -> None:
        from qualipact.privacy.maintenance import sqlite_checkpoint

        try:
            while not self.stopping.wait(self.interval):
                started = time.perf_counter()
                sqlite_checkpoint()
                self.runs_ms.append((time.perf_counter() - started) * 1000)
        finally:
            connections.close_all()

    def describe(self) -> str:
        if connections["default"].vendor != "sqlite":
            return "WAL: not SQLite, no checkpoints"
        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            pages = cursor.fetchone()[0]
        longest = f", longest {max(self.runs_ms):.0f} ms" if self.runs_ms else ""
        return (
            f"WAL: SQLite checkpoints on its own after {pages:,} pages (settings); the "
            f"worker's PASSIVE checkpoint ran every {self.interval:g} s in a background "
            f"thread during the timing: {len(self.runs_ms)} times{longest}"
        )


def measure(tables: list[Table], samples: Samples) -> list[Result]:
    warm = subjects_by_id(samples.spare)
    members = export_members([*samples["raw_export"], *samples.spare[:WARMUP]])
    lib_requests = erasure_requests(
        [*samples.spare[3 * WARMUP : 4 * WARMUP], *samples["lib_request"]]
    )
    raw_requests = erasure_requests([*samples.spare[4 * WARMUP :], *samples["raw_request"]])
    for subject in warm[:WARMUP]:
        library_export(subject)
        raw_export(tables, subject.pk, members[subject.pk])
    for subject in warm[WARMUP : 2 * WARMUP]:
        library_erase(subject)
    for subject in warm[2 * WARMUP : 3 * WARMUP]:
        raw_erase(tables, subject.pk)
    for pair in lib_requests[:WARMUP]:
        library_request_erase(pair)
    for pair in raw_requests[:WARMUP]:
        raw_request_erase(tables, pair)
    # The worker keeps the write-ahead log short: start from where its last run left it.
    from qualipact.privacy.maintenance import sqlite_checkpoint

    sqlite_checkpoint()
    checkpointer = Checkpointer()
    checkpointer.start()
    library_ms, raw_ms = paired(
        (library_export, subjects_by_id(samples["lib_export"])),
        (
            lambda subject_id: raw_export(tables, subject_id, members[subject_id]),
            samples["raw_export"],
        ),
        desc="export",
    )
    results = [Result("access export (zip built)", library_ms, raw_ms)]
    library_ms, raw_ms = paired(
        (library_erase, subjects_by_id(samples["lib_erase"])),
        (lambda subject_id: raw_erase(tables, subject_id), samples["raw_erase"]),
        desc="erase",
    )
    results.append(Result("erasure (subject_erase)", library_ms, raw_ms))
    request_ms, raw_request_ms = paired(
        (library_request_erase, lib_requests[WARMUP:]),
        (lambda pair: raw_request_erase(tables, pair), raw_requests[WARMUP:]),
        desc="erasure request",
    )
    results.append(Result("erasure request (rights.services.fulfil)", request_ms, raw_request_ms))
    requests_done([*lib_requests, *raw_requests])
    bare_ms = [timed_ms(lambda s: raw_erase_bare(tables, s), s) for s in samples["bare_erase"]]
    checkpointer.stopping.set()
    checkpointer.join()
    results.append(Result("erasure vs bare rows+key delete (info)", library_ms, bare_ms))
    print(checkpointer.describe())
    return results


def print_verdicts(results: list[Result]) -> None:
    export, erase, request, _ = results
    for result, target in (
        (export, EXPORT_TARGET_MS),
        (erase, ERASE_TARGET_MS),
        (request, ERASE_TARGET_MS),
    ):
        _, p95 = Result.median_p95(result.library_ms)
        verdict = "meets the target" if p95 <= target else "MISSES the target"
        print(f"  {result.operation} p95 {p95:.2f} ms (target {target:g} ms): {verdict}")
    for result in results[:3]:  # the bare-delete row is for information, not a target
        *_, p95_ratio, median_ratio = result.row()
        verdict = "meets the target" if p95_ratio <= TARGET_RATIO else "MISSES the target"
        print(
            f"  {result.operation}: p95 ratio {p95_ratio:.2f}x, median ratio "
            f"{median_ratio:.2f}x (target {TARGET_RATIO:g}x): {verdict}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        argv, description=__doc__ or "", default=DEFAULT_SUBJECTS, samples=200, min_samples=2
    )
    start(
        f"bench-rights-{args.subjects}",
        args,
        create=lambda first, stop: create_people(first, stop, seed=args.seed),
    )
    # The erasure receipt goes out by SMTP in production; here to Django's in-memory
    # backend, so the timing is of the request's own work, not of a mail server.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tables = raw_tables()
    samples = draw(args.samples, seed=args.seed)
    results = measure(tables, samples)
    records = verify(tables, samples["raw_export"][:20])
    print_sampled_run(args, samples)
    print(
        f"verified: raw SQL gathers the same {records} records as the export, with the "
        f"same decrypted values, for {min(20, len(samples['raw_export']))} people\n"
    )
    print_table(results)
    print()
    print_verdicts(results)
    print(
        "the raw export zips ready-made files (no audit, no JSON/CSV/HTML writing); the "
        "bare row skips the erased marker, both audit events and the shred epoch."
    )
    audit_chain_check()


if __name__ == "__main__":
    main()

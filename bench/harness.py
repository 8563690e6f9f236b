"""What every benchmark shares: its own Django set-up, fast data building, the raw-SQL
helpers that read the vault's keys and write the audit chain by hand, alternating timing,
and the side-by-side table with the machine's load.

A bench script imports it as a sibling module (`from harness import ...`: Python puts the
script's folder first on sys.path). Django is set up by `configure`; the functions that
touch models import them inside, so importing this module needs no settings.

A typical bench:

    args = parse_args(argv, description=__doc__, default=10_000)
    configure(f"bench-mine-{args.subjects}", keep=args.keep)
    print(ensure_subjects(args.subjects, keep=args.keep, create=my_create))
    library_ms, raw_ms = paired((library_fn, lib_args), (raw_fn, raw_args), desc="op")
    print_table([Result("op", library_ms, raw_ms)])

For throughput (a sweep against a raw DELETE of the same rows), `alternating` runs a
setup before each timed call and `print_throughput_table` prints rows per second.
"""

from __future__ import annotations

import argparse
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
from contextlib import ExitStack
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
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
ALIASES = ("default", "keys")
# Audit codes an erasure writes (qualipact.privacy.audit.EventCode).
SUBJECT_ERASED, SUBJECT_KEY_SHREDDED = 101, 102
# Ciphertext layout, as in qualipact.privacy.vault: version byte, 12-byte nonce, sealed.
FORMAT_V1 = b"\x01"
NONCE = 12


# -- set-up ---------------------------------------------------------------------------


def parse_args(
    argv: Sequence[str] | None,
    *,
    description: str,
    default: int,
    size: str = "subjects",
    large: int | None = None,
    samples: int | None = None,
    min_samples: int = 1,
    runs: int | None = None,
    more: Callable[[argparse.ArgumentParser], Any] | None = None,
) -> argparse.Namespace:
    """The command line every bench takes: `--<size> N` (how much data; `--large` for
    the large size when given), `--samples N` when the bench samples, `--runs N` (timed
    runs per path, default `runs`) when it repeats whole runs, `--keep` (reuse the data
    set of a former run), `--seed N`; `more` adds the bench's own options.
    Exits with a usage error on a size or runs below 1 or samples below `min_samples`."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(f"--{size}", type=int, default=default, help=f"{size} to create")
    if large is not None:
        sizes.add_argument(
            "--large", action="store_const", const=large, dest=size, help=f"{large:,}"
        )
    if samples is not None:
        parser.add_argument("--samples", type=int, default=samples, help="timed per path")
    if runs is not None:
        parser.add_argument("--runs", type=int, default=runs, help="timed runs per path")
    parser.add_argument("--keep", action="store_true", help="reuse an existing data set")
    parser.add_argument("--seed", type=int, default=2024, help="data and sampling seed")
    if more is not None:
        more(parser)
    args = parser.parse_args(argv)
    if getattr(args, size) < 1:
        parser.error(f"--{size} must be positive")
    if samples is not None and args.samples < min_samples:
        parser.error(f"--samples must be at least {min_samples}")
    if runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def configure(name: str, *, keep: bool) -> Path:
    """Start Django on the bench's own data folder `var/<name>/` and migrate both
    databases; return the folder.

    Without `keep` its SQLite files and cache are deleted first, but not its secrets:
    data in a database named by DATABASE_URL may still need them. The secrets are written
    as `manage.py secrets_init` writes them (the settings only read). DEBUG is forced off
    so that Django does not log queries during the measurement."""
    from qualipact import config

    var_dir = REPO / "var" / name
    if not keep:
        discard_data(var_dir)
    os.environ["QUALIPACT_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "qualipact.settings"
    os.environ["DEBUG"] = "0"
    config.local_dirs_init(folder=var_dir)
    if config.secrets_missing_from_env():
        config.secrets_file_init(path=var_dir / config.SECRETS_FILE_NAME)
    django.setup()
    for alias in ALIASES:
        call_command("migrate", database=alias, verbosity=0)
    return var_dir


def start(
    name: str,
    args: argparse.Namespace,
    *,
    create: Callable[[int, int], str],
    subjects: int | None = None,
) -> Path:
    """`configure`, then `ensure_subjects(subjects, ...)` (default `args.subjects`);
    print the data folder, the databases and what was created. Returns the data folder."""
    var_dir = configure(name, keep=args.keep)
    count = args.subjects if subjects is None else subjects
    print(f"data directory: {var_dir.relative_to(REPO)}")
    print("databases: " + ", ".join(describe_database(alias) for alias in ALIASES))
    print(f"data: {ensure_subjects(count, keep=args.keep, create=create)}")
    return var_dir


def discard_data(var_dir: Path) -> None:
    """Delete the bench's SQLite files and cache, keeping its secrets file."""
    from qualipact import config

    for path in var_dir.glob("*"):
        if path.name == config.SECRETS_FILE_NAME:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def describe_database(alias: str) -> str:
    """`alias=engine version (file or database name)`, for the report's header."""
    connection = connections[alias]
    version = ".".join(str(part) for part in connection.get_database_version())
    name = Path(str(connection.settings_dict["NAME"]))
    where = name.relative_to(REPO) if name.is_relative_to(REPO) else name.name
    return f"{alias}={connection.display_name} {version} ({where})"


def describe_run(**sizes: Any) -> str:
    """One line: the given sizes, the database, the cache and the software versions."""
    shown = [f"{name.replace('_', ' ')} {value:,}" for name, value in sizes.items()]
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return " | ".join(
        [
            *shown,
            f"database {connections['default'].display_name}",
            f"cache {cache_backend}",
            f"Python {platform.python_version()}",
            f"Django {django.get_version()}",
        ]
    )


def print_sampled_run(args: argparse.Namespace, samples: Samples) -> None:
    """The header line of a sampled run: people, how many were intact, samples per path."""
    print(
        "\n"
        + describe_run(
            subjects=args.subjects,
            intact_before_sampling=samples.intact,
            samples_per_path=args.samples,
        )
    )


def progress(iterable: Any = None, **kwargs: Any) -> tqdm:
    """A progress bar on stderr, shown only on a terminal."""
    return tqdm(iterable, file=sys.stderr, disable=not sys.stderr.isatty(), **kwargs)


# -- data set -------------------------------------------------------------------------


def ensure_subjects(subjects: int, *, keep: bool, create: Callable[[int, int], str]) -> str:
    """Make sure `subjects` people exist: `create(start, stop)` makes people `start` to
    `stop - 1` and describes what it wrote. Returns what happened, with the time taken.
    Exits when the database holds people and `keep` is off (never mixes data sets)."""
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
    what = create(existing, subjects)
    seconds = time.perf_counter() - started
    return f"created {subjects - existing:,} subjects ({what}) in {seconds:.1f} s"


def batches(start: int, stop: int, size: int, *, desc: str = "creating") -> Iterator[range]:
    """The indexes `start` to `stop - 1` in ranges of `size`, each handled inside one
    transaction on both databases, with a progress bar."""
    with progress(total=stop - start, unit="subject", desc=desc) as bar:
        for first in range(start, stop, size):
            last = min(first + size, stop)
            with ExitStack() as stack:
                for alias in ALIASES:
                    stack.enter_context(transaction.atomic(using=alias))
                yield range(first, last)
            bar.update(last - first)


def analyze(*, vacuum: bool = False) -> None:
    """Refresh the planner's statistics on both databases after bulk loading.

    With `vacuum`, PostgreSQL also vacuums (VACUUM ANALYZE), as its autovacuum does soon
    after a bulk load: only then does the visibility map let an index-only scan skip the
    table, so a bench whose reads are index-only measures what a live site sees."""
    for alias in ALIASES:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE" if vacuum and connection.vendor == "postgresql" else "ANALYZE"
            )


class RowWriter:
    """INSERTs of one model's rows, with the values its fields would save.

    bulk_create spends most of its time in per-value machinery and, for encrypted
    fields, a key-cache lookup per value; this computes the same column values (the
    field's default, auto_now, blind index, AES-256-GCM under the person's key, the
    field's own database preparation) and sends them with one executemany.
    """

    def __init__(self, model: type) -> None:
        from django.db import router

        self.model = model
        self.alias = router.db_for_write(model)
        self.connection = connections[self.alias]
        self.fields = list(model._meta.concrete_fields)  # type: ignore[attr-defined]
        table = model._meta.db_table  # type: ignore[attr-defined]
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = (
            f'INSERT INTO "{table}" ({quoted(*(f.column for f in self.fields))}) '
            f"VALUES ({placeholders})"
        )
        self.rows: list[tuple[Any, ...]] = []

    def add(self, values: dict[str, Any], *, key: bytes | None = None, now: Any = None) -> None:
        from qualipact.privacy import vault
        from qualipact.privacy.fields import BlindIndexField, EncryptedTextField, encrypted_context

        row = []
        for field in self.fields:
            if field.name in values:
                value = values[field.name]
            elif isinstance(field, BlindIndexField):
                plaintext = values.get(field.source)
                value = vault.blind_index(field.scope, plaintext) if plaintext else None
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()  # the default, "" for text, else None
            if isinstance(field, EncryptedTextField) and value is not None:
                assert key is not None, f"{field.name} needs the subject's key"
                value = vault.Sealed(
                    vault.encrypt_with_key(
                        key,
                        subject_id=values["subject"],
                        context=encrypted_context(self.model, field.name),
                        plaintext=value,
                    )
                )
            row.append(field.get_db_prep_save(value, self.connection))
        self.rows.append(tuple(row))

    def flush(self) -> int:
        count = len(self.rows)
        if self.rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, self.rows)
            self.rows = []
        return count


class Rows:
    """Row writers for every model a data set fills; `subject` starts a person (their
    DataSubject row and wrapped data key), `add` queues a row, `flush` writes them all
    in the order the models were first used (subjects first: foreign keys)."""

    def __init__(self) -> None:
        self.writers: dict[type, RowWriter] = {}
        self.now = timezone.now()

    def add(self, model: type, values: dict[str, Any], key: bytes | None = None) -> None:
        if model not in self.writers:
            self.writers[model] = RowWriter(model)
        self.writers[model].add(values, key=key, now=self.now)

    def subject(self, subject_id: uuid.UUID) -> bytes:
        """Queue a person and their key; return the plain data key to encrypt with."""
        from qualipact.privacy.models import DataSubject, SubjectKey

        key = AESGCM.generate_key(256)
        master_key_id, wrapped = wrapped_key(subject_id, key)
        self.add(DataSubject, {"id": subject_id})
        self.add(
            SubjectKey,
            {"subject_id": subject_id, "master_key_id": master_key_id, "wrapped_key": wrapped},
        )
        return key

    def flush(self) -> int:
        """Write every queued row; return how many rows besides subjects and keys."""
        from qualipact.privacy.models import DataSubject, SubjectKey

        counts = {model: writer.flush() for model, writer in self.writers.items()}
        return sum(n for model, n in counts.items() if model not in (DataSubject, SubjectKey))


@dataclass
class Samples:
    """Distinct people drawn for the timing: `samples[name]` is one group's ids, `spare`
    the people left for warming up, `intact` how many people could be drawn from."""

    groups: dict[str, list[uuid.UUID]]
    spare: list[uuid.UUID]
    intact: int

    def __getitem__(self, name: str) -> list[uuid.UUID]:
        return self.groups[name]


def draw_samples(
    pool: Sequence[uuid.UUID], names: Sequence[str], *, samples: int, spare: int, seed: int
) -> Samples:
    """`samples` people at random from `pool` for each named group, and `spare` more, all
    distinct (each person is timed once: an erased person cannot be erased again). Exits
    when the pool is too small."""
    needed = len(names) * samples + spare
    if len(pool) < needed:
        sys.exit(f"Only {len(pool)} intact subjects left, {needed} needed: run without --keep.")
    chosen = random.Random(seed).sample(list(pool), needed)
    groups = {name: chosen[i * samples : (i + 1) * samples] for i, name in enumerate(names)}
    return Samples(groups, spare=chosen[len(names) * samples :], intact=len(pool))


def library_erase(subject: Any) -> Any:
    """The library's erasure of one person (`subject_erase`), by the system actor."""
    from qualipact.privacy.audit import Actor
    from qualipact.privacy.services import subject_erase

    return subject_erase(subject=subject, actor=Actor.system("bench"))


def subjects_by_id(ids: Sequence[uuid.UUID]) -> list[Any]:
    """The DataSubject rows of `ids`, in that order."""
    from qualipact.privacy.models import DataSubject

    found = DataSubject.objects.in_bulk(list(ids))
    return [found[subject_id] for subject_id in ids]


# -- raw SQL: keys, tables, audit -----------------------------------------------------


def db_uuid(alias: str, value: uuid.UUID) -> Any:
    """A UUID as the backend stores it: native where supported, else 32 hex characters."""
    return value if connections[alias].features.has_native_uuid_field else value.hex


def for_update(alias: str, sql: str) -> str:
    return sql + " FOR UPDATE" if connections[alias].features.has_select_for_update else sql


def quoted(*columns: str) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def wrapped_key(subject_id: uuid.UUID, key: bytes) -> tuple[str, bytes]:
    """The data key wrapped as the vault wraps it, under the current master key:
    (master key id, nonce + sealed key). `raw_key` is the reverse."""
    master_key_id, master = next(iter(settings.VAULT_MASTER_KEYS.items()))
    nonce = os.urandom(NONCE)
    aad = f"qualipact-vault-key|{master_key_id}|{subject_id}".encode()
    return master_key_id, nonce + AESGCM(master).encrypt(nonce, key, aad)


def raw_key(subject_id: uuid.UUID) -> bytes:
    """The person's data key, read and unwrapped by hand. LookupError when shredded."""
    with connections["keys"].cursor() as cursor:
        cursor.execute(
            "SELECT master_key_id, wrapped_key FROM privacy_subjectkey WHERE subject_id = %s",
            [db_uuid("keys", subject_id)],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no data key for subject {subject_id}")
    master_key_id, wrapped = row[0], bytes(row[1])
    aad = f"qualipact-vault-key|{master_key_id}|{subject_id}".encode()
    master = AESGCM(settings.VAULT_MASTER_KEYS[master_key_id])
    return master.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad)


def raw_decrypt(aead: AESGCM, *, table: str, column: str, subject_id: uuid.UUID, value: Any) -> Any:
    """One encrypted column's plaintext (None stays None), as the vault would decrypt it."""
    if value is None:
        return None
    blob = bytes(value)
    if blob[:1] != FORMAT_V1:
        raise ValueError(f"unknown ciphertext format in {table}.{column}")
    aad = f"{table}.{column}|{subject_id}".encode()
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


@dataclass(frozen=True)
class Table:
    """A declared model as plain SQL over its columns, for the raw path."""

    label: str
    table: str
    depth: int  # joins between the table and the subject column (0: its own column)
    columns: tuple[str, ...]
    encrypted: frozenset[str]
    select: str
    erase: str  # DELETE of the rows, or the UPDATE that clears what erasure keeps as rows
    deletes_row: bool
    fields: tuple[str, ...]


def raw_tables() -> list[Table]:
    """Every declared table, as SQL written once from the models' column names.

    Tables reached through a join come first, so their rows are deleted before the rows
    the join goes through. Exits on an erasure rule the raw path does not write."""
    from qualipact.privacy.registry import Erasure, registry

    tables = []
    for declaration in registry.subject_declarations():
        meta = declaration.model._meta
        condition, depth = subject_condition(declaration.model, str(declaration.subject_field))
        if declaration.deletes_row:
            erase = f'DELETE FROM "{meta.db_table}" WHERE {condition}'
        else:
            # Rows the law keeps (the request log, legal holds): their fields are cleared,
            # or set to the constant their declaration anonymises them to.
            assignments = []
            for name, spec in declaration.fields.items():
                column = meta.get_field(name).column
                if spec.erasure is Erasure.NULL:
                    assignments.append(f'"{column}" = NULL')
                elif spec.erasure is Erasure.ANONYMISE and isinstance(spec.anonymise_to, str):
                    literal = spec.anonymise_to.replace("'", "''")
                    assignments.append(f"\"{column}\" = '{literal}'")
                else:
                    sys.exit(f"{declaration.label}.{name}: this erasure is not benchmarked")
            erase = f'UPDATE "{meta.db_table}" SET {", ".join(assignments)} WHERE {condition}'
        columns = tuple(meta.get_field(name).column for name in declaration.fields)
        encrypted = frozenset(
            meta.get_field(name).column
            for name, spec in declaration.fields.items()
            if spec.encrypted
        )
        tables.append(
            Table(
                label=declaration.label,
                table=meta.db_table,
                depth=depth,
                columns=columns,
                encrypted=encrypted,
                select=(
                    f"SELECT {quoted(meta.pk.column, *columns)} "
                    f'FROM "{meta.db_table}" WHERE {condition}'
                ),
                erase=erase,
                deletes_row=declaration.deletes_row,
                fields=tuple(sorted(declaration.fields)),
            )
        )
    return sorted(tables, key=lambda table: -table.depth)


def raw_audit(cursor: Any, *, code: int, subject_id: uuid.UUID, data: dict[str, Any]) -> None:
    """Append one event to the chain by hand, in the caller's transaction."""
    connection = connections["default"]
    cursor.execute(
        for_update("default", "SELECT last_event_id, hash FROM privacy_audithead WHERE id = 1")
    )
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
        "INSERT INTO privacy_auditevent (id, occurred_at, code, actor_kind, actor_id, "
        "subject_id, purpose, data, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s)",
        [event_id, when, code, "system", "bench", db_uuid("default", subject_id), "", payload,
         prev_hash, digest],
    )  # fmt: skip
    cursor.execute(
        "UPDATE privacy_audithead SET last_event_id = %s, hash = %s, updated_at = %s WHERE id = 1",
        [event_id, digest, when],
    )


def raw_erase_rows(cursor: Any, tables: Sequence[Table], main_id: Any) -> dict[str, Any]:
    """Delete the person's rows, clear the fields of the rows the law keeps; return the
    per-model summary subject_erase audits."""
    models: dict[str, Any] = {}
    for table in tables:
        cursor.execute(table.erase, [main_id])
        models[table.label] = {
            "action": "delete_row" if table.deletes_row else "update",
            "rows": cursor.rowcount,
        }
        if not table.deletes_row:
            models[table.label]["fields"] = list(table.fields)
    return models


def raw_mark_erased(cursor: Any, tables: Sequence[Table], subject_id: uuid.UUID) -> dict[str, Any]:
    """Lock the person, erase their rows, mark them erased, audit: in the caller's
    transaction. Returns the per-model summary."""
    main_id = db_uuid("default", subject_id)
    cursor.execute(
        for_update("default", "SELECT erased_at FROM privacy_datasubject WHERE id = %s"),
        [main_id],
    )
    cursor.fetchone()
    models = raw_erase_rows(cursor, tables, main_id)
    now = connections["default"].ops.adapt_datetimefield_value(timezone.now())
    cursor.execute(
        "UPDATE privacy_datasubject SET erased_at = %s, updated_at = %s WHERE id = %s",
        [now, now, main_id],
    )
    raw_audit(cursor, code=SUBJECT_ERASED, subject_id=subject_id, data={"models": models})
    return models


def raw_holds_check(cursor: Any, subject_id: uuid.UUID) -> None:
    """Read the person's active legal holds, as every erasure does; the benches' people
    have none."""
    cursor.execute(
        "SELECT id, models_held FROM retention_legalhold "
        "WHERE subject_id = %s AND lifted_at IS NULL",
        [db_uuid("default", subject_id)],
    )
    if cursor.fetchall():
        raise AssertionError("the bench's people have no legal hold")


def raw_shred_bare(subject_id: uuid.UUID) -> bool:
    """DELETE the key row and INSERT the shred record, in the key store; return whether
    a key existed."""
    keys_id = db_uuid("keys", subject_id)
    shredded_at = connections["keys"].ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(using="keys"), connections["keys"].cursor() as cursor:
        cursor.execute("DELETE FROM privacy_subjectkey WHERE subject_id = %s", [keys_id])
        existed = cursor.rowcount > 0
        cursor.execute(
            "INSERT INTO privacy_shredrecord (subject_id, shredded_at) VALUES (%s, %s)",
            [keys_id, shredded_at],
        )
    return existed


def raw_shred(subject_id: uuid.UUID) -> None:
    """The key shred as subject_erase does it: DELETE the key, INSERT the shred record,
    publish a new shred epoch, append the second audit event."""
    from qualipact.privacy.vault import EPOCH_CACHE_KEY

    existed = raw_shred_bare(subject_id)
    cache.set(EPOCH_CACHE_KEY, uuid.uuid4().hex, None)
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        raw_audit(
            cursor, code=SUBJECT_KEY_SHREDDED, subject_id=subject_id, data={"key_existed": existed}
        )


def raw_erase(tables: Sequence[Table], subject_id: uuid.UUID) -> None:
    """Everything subject_erase does, on raw cursors."""
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        raw_holds_check(cursor, subject_id)
        raw_mark_erased(cursor, tables, subject_id)
    raw_shred(subject_id)


def raw_erase_bare(tables: Sequence[Table], subject_id: uuid.UUID) -> None:
    """The rows, the key row and the shred record only: no erased marker, no audit, no
    epoch. For information."""
    main_id = db_uuid("default", subject_id)
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        for table in tables:
            if table.deletes_row:
                cursor.execute(table.erase, [main_id])
    raw_shred_bare(subject_id)


def audit_chain_check() -> None:
    """Print whether the audit chain (written by both paths) verifies; exit if not."""
    from qualipact.privacy.audit import audit_verify

    report = audit_verify()
    print(f"audit chain after both paths: {report}")
    if not report.ok:
        sys.exit("the raw-SQL path wrote a broken audit chain: its numbers are not comparable")


# -- staff pages ----------------------------------------------------------------------


def staff_member(username: str, *, role: str) -> Any:
    """The staff account `username` holding `role` (a `web.roles.Role` value) with an
    authenticator app set up, as every staff page requires; made once, then reused."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.models import Group

    from qualipact.accounts.models import User
    from qualipact.accounts.services import account_create
    from qualipact.web.roles import ROLE_GROUPS, Role

    user = User.objects.filter(username=username).first()
    if user is None:
        user = account_create(
            username=username,
            email=f"{username}@qualipact.example",
            password=uuid.uuid4().hex,
            email_verified=True,
            is_staff=True,
        )
        TOTP.activate(user, generate_totp_secret())
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[Role(role)]))
    return user


def staff_client(username: str, *, role: str) -> Any:
    """Django's test client signed in as `staff_member(username, role=role)`."""
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(staff_member(username, role=role))
    return client


def captured(call: Callable[[], Any]) -> list[str]:
    """The SQL statements `call()` sends to the main database, as executed: the reads
    only (a session or sign-in bookkeeping write now and then is not replayed)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as queries:
        call()
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
    ]


def replay(statements: Sequence[str]) -> None:
    """Send `statements` (from `captured`) again on a raw cursor, fetching every row."""
    with connections["default"].cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()


# -- timing ---------------------------------------------------------------------------


def median_p95(values: Sequence[float]) -> tuple[float, float]:
    """The median and the 95th percentile (one value: that value twice)."""
    if len(values) < 2:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=20)[-1]


def timed_ms(call: Callable[[Any], Any], argument: Any) -> float:
    """Milliseconds one `call(argument)` takes, with the in-process key cache cleared."""
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
    """Time both paths in turn, one argument each per turn, alternating which goes first,
    so drift hits both alike: (library ms, raw ms)."""
    library_ms: list[float] = []
    raw_ms: list[float] = []
    pairs = list(zip(library[1], raw[1], strict=True))
    for i, (library_arg, raw_arg) in enumerate(progress(pairs, desc=desc, unit="pair")):
        turns = [(library_ms, library[0], library_arg), (raw_ms, raw[0], raw_arg)]
        for times, call, argument in turns if i % 2 == 0 else reversed(turns):
            times.append(timed_ms(call, argument))
    return library_ms, raw_ms


def alternating(
    library: Callable[[], Any],
    raw: Callable[[], Any],
    *,
    runs: int,
    setup: Callable[[], Any] = lambda: None,
    desc: str = "runs",
) -> tuple[list[float], list[float]]:
    """Seconds of `runs` calls of each path, alternating which goes first; `setup()`
    (untimed) runs before every call, e.g. to put back the rows the last call deleted:
    (library seconds, raw seconds)."""
    library_s: list[float] = []
    raw_s: list[float] = []
    for i in progress(range(runs), desc=desc, unit="pair"):
        turns = [(library_s, library), (raw_s, raw)]
        for times, call in turns if i % 2 == 0 else reversed(turns):
            setup()
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return library_s, raw_s


# -- report ---------------------------------------------------------------------------


def load_line() -> str:
    """The machine's load averages and CPU count: numbers from a busy machine are slower."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average: unknown"
    return f"load average: {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown-style table, cells right-aligned to their column's title, then the load."""
    widths = [len(title) for title in columns]
    print(" | ".join(columns))
    print("-|-".join("-" * width for width in widths))
    for cells in rows:
        print(" | ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True)))
    print(load_line())


@dataclass
class Result:
    """One operation timed on both paths (values in `unit`, ms unless said)."""

    operation: str
    library_ms: list[float]
    raw_ms: list[float]
    unit: str = "ms"

    @staticmethod
    def median_p95(values: list[float]) -> tuple[float, float]:
        return median_p95(values)

    def row(self) -> tuple[str, float, float, float, float, float, float]:
        """(operation, library median, p95, raw median, p95, ratio p95, ratio median)."""
        lib_median, lib_p95 = median_p95(self.library_ms)
        raw_median, raw_p95 = median_p95(self.raw_ms)
        return (
            self.operation,
            lib_median,
            lib_p95,
            raw_median,
            raw_p95,
            lib_p95 / raw_p95,
            lib_median / raw_median,
        )


def print_table(results: Sequence[Result]) -> None:
    """Library against raw SQL, side by side: median, p95 and their ratios; then the load."""
    unit = results[0].unit if results else "ms"
    columns = (
        "operation",
        f"library median {unit}",
        f"library p95 {unit}",
        f"raw SQL median {unit}",
        f"raw SQL p95 {unit}",
        "ratio p95",
        "ratio median",
    )
    rows = []
    for result in results:
        name, *times, p95_ratio, median_ratio = result.row()
        rows.append(
            [
                name,
                *(f"{value:.3f}" for value in times),
                f"{p95_ratio:.2f}x",
                f"{median_ratio:.2f}x",
            ]
        )
    print_rows(columns, rows)


@dataclass
class Throughput:
    """The same `rows` handled by both paths, in seconds per run."""

    operation: str
    rows: int
    library_s: list[float]
    raw_s: list[float]

    def rates(self) -> tuple[float, float]:
        """Rows per second at the median run: (library, raw)."""
        return (
            self.rows / statistics.median(self.library_s),
            self.rows / statistics.median(self.raw_s),
        )


def print_throughput_table(results: Sequence[Throughput]) -> None:
    """Rows per second of both paths and the library's share of raw; then the load."""
    columns = (
        "operation",
        "rows",
        "library median s",
        "library rows/s",
        "raw SQL median s",
        "raw SQL rows/s",
        "library / raw",
    )
    rows = []
    for result in results:
        library_rate, raw_rate = result.rates()
        rows.append(
            [
                result.operation,
                f"{result.rows:,}",
                f"{statistics.median(result.library_s):.3f}",
                f"{library_rate:,.0f}",
                f"{statistics.median(result.raw_s):.3f}",
                f"{raw_rate:,.0f}",
                f"{library_rate / raw_rate:.0%}",
            ]
        )
    print_rows(columns, rows)


@dataclass
class LoadRun:
    """One timed run of a load generator against one server: the requests answered as
    expected within `seconds`, their latency percentiles, and the requests that were not
    (failed in transit, timed out, or answered with another status)."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Served:
    """One page under load on both servers, `runs` each, alternating."""

    operation: str
    library: list[LoadRun]
    raw: list[LoadRun]

    @staticmethod
    def medians(runs: Sequence[LoadRun]) -> tuple[float, float, float]:
        """The median run's requests per second, p50 and p95 (each the median over runs)."""
        return (
            statistics.median(run.rate for run in runs),
            statistics.median(run.p50_ms for run in runs),
            statistics.median(run.p95_ms for run in runs),
        )

    def ratio(self) -> float:
        """The library's requests per second as a share of raw's (medians over runs)."""
        raw_rate = self.medians(self.raw)[0]
        return self.medians(self.library)[0] / raw_rate if raw_rate else 0.0

    def errors(self) -> int:
        return sum(run.errors for run in (*self.library, *self.raw))


def print_served_table(results: Sequence[Served], *, names: tuple[str, str]) -> None:
    """Requests per second, p50 and p95 latency of both servers side by side (`names`:
    what the library and raw paths are called), the library's rate over raw's and the
    requests that failed; then the load."""
    library, raw = names
    columns = (
        "page",
        f"{library} req/s",
        f"{library} p50 ms",
        f"{library} p95 ms",
        f"{raw} req/s",
        f"{raw} p50 ms",
        f"{raw} p95 ms",
        f"{library} / {raw} req/s",
        "errors",
    )
    rows = []
    for result in results:
        cells = []
        for runs in (result.library, result.raw):
            rate, p50, p95 = result.medians(runs)
            cells += [f"{rate:,.1f}", f"{p50:.1f}", f"{p95:.1f}"]
        rows.append([result.operation, *cells, f"{result.ratio():.2f}", f"{result.errors():,}"])
    print_rows(columns, rows)

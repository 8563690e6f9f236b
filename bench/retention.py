"""Benchmark of the retention engine: a sweep of expired rows against a raw DELETE.

Run from the repository root:

    .venv/bin/python bench/retention.py                  # 100,000 expired rows
    .venv/bin/python bench/retention.py --large          # 1,000,000 expired rows
    .venv/bin/python bench/retention.py --rows 20000 --runs 1

The data lives in var/bench-retention-<N>/ (SQLite); DATABASE_URL / KEYS_DATABASE_URL
are honoured (then the databases must be empty, or pass --keep). The table is
`comms.OutboundEmail`, a typical personal table: a subject key, encrypted address,
subject line and body, a blind index. Its rows are written once, encrypted under each
person's key (RowWriter: the values `save()` would store), spread over one person per
100 rows, nine in ten queued past their 90 days and one in ten still inside them,
which both paths must keep.

Measured, in the same run, alternating which path goes first, the table refilled
(untimed) from a copy before every run:
- the engine: `retention_sweep(model="comms.OutboundEmail")`, in batches, holds
  honoured, one audit event per batch;
- raw SQL: one `DELETE ... WHERE created_at < cutoff` of the same rows.
Target: the engine at 50% or more of raw SQL's rows per second.
"""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from harness import (
    Rows,
    Throughput,
    alternating,
    analyze,
    batches,
    configure,
    describe_database,
    describe_run,
    parse_args,
    print_throughput_table,
)

DEFAULT_ROWS = 100_000
LARGE_ROWS = 1_000_000
PER_PERSON = 100
KEPT_SHARE = 10  # one row in ten is still inside its period
LABEL = "comms.OutboundEmail"
COPY = "bench_retention_copy"
TARGET = 0.5


def create(expired: int) -> str:
    """People and their emails: at least `expired` past the period, and one in ten of
    each person's inside it."""
    from qualipact.comms.models import OutboundEmail

    now = timezone.now()
    old = now - timedelta(days=120)
    # Per person, PER_PERSON rows of which one in KEPT_SHARE is inside its period.
    expired_each = PER_PERSON - PER_PERSON // KEPT_SHARE
    people = (expired + expired_each - 1) // expired_each
    total = people * PER_PERSON
    for chunk in batches(0, people, 200, desc="people"):
        rows = Rows()
        for _ in chunk:
            subject_id = uuid.uuid4()
            key = rows.subject(subject_id)
            for n in range(PER_PERSON):
                rows.add(
                    OutboundEmail,
                    {
                        "subject": subject_id,
                        "kind": "service",
                        "purpose": "service_delivery",
                        "to": f"person{n}@example.org",
                        "subject_line": "Your request",
                        "body": "Hello, this is about your request.",
                        "message_id": f"<{uuid.uuid4().hex}@bench.invalid>",
                        "status": "sent",
                        "sent_at": old,
                        "created_at": old if n % KEPT_SHARE else now,
                        "updated_at": old,
                    },
                    key=key,
                )
        rows.flush()
    analyze()
    return f"{people:,} people, {total:,} emails"


def table() -> str:
    from qualipact.comms.models import OutboundEmail

    return OutboundEmail._meta.db_table


def copy_make() -> None:
    """Keep a copy of the freshly written table, to refill it before every run (a data
    set kept with --keep keeps its copy: the table itself was swept by the last run)."""
    connection = connections["default"]
    if COPY in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{COPY}" AS SELECT * FROM "{table()}"')


def refill() -> None:
    """Put the copy back. On PostgreSQL the table is truncated, not deleted from, and
    analysed after: every run starts from the same table, without the dead rows of the
    runs before it, with fresh statistics, as autovacuum keeps a table in production."""
    connection = connections["default"]
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'{"TRUNCATE" if postgresql else "DELETE FROM"} "{table()}"')
        cursor.execute(f'INSERT INTO "{table()}" SELECT * FROM "{COPY}"')
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{table()}"')


def expired_count() -> int:
    from qualipact.comms.models import OutboundEmail

    return OutboundEmail.objects.filter(created_at__lt=timezone.now() - timedelta(days=90)).count()


def engine() -> Any:
    from qualipact.retention.engine import retention_sweep

    return retention_sweep(model=LABEL)


def raw() -> None:
    cutoff = timezone.now() - timedelta(days=90)
    with transaction.atomic(), connections["default"].cursor() as cursor:
        cursor.execute(f'DELETE FROM "{table()}" WHERE "created_at" < %s', [cutoff])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        argv,
        description=__doc__ or "",
        default=DEFAULT_ROWS,
        size="rows",
        large=LARGE_ROWS,
        runs=3,
    )
    configure(f"bench-retention-{args.rows}", keep=args.keep)
    from qualipact.comms.models import OutboundEmail

    if not OutboundEmail.objects.exists():
        print(f"data: {create(args.rows)}")
    elif not args.keep:
        sys.exit("The database already holds emails: pass --keep, or use empty databases.")
    copy_make()
    refill()
    expired = expired_count()
    kept = OutboundEmail.objects.count() - expired
    print("databases: " + ", ".join(describe_database(a) for a in ("default", "keys")))
    print(describe_run(expired_rows=expired, kept_rows=kept, runs=args.runs))

    ran = {"any": False}

    def check() -> None:
        # Both paths must leave exactly the rows inside their period (checked untimed).
        left = OutboundEmail.objects.count()
        if ran["any"] and left != kept:
            sys.exit(f"a path left {left} rows, expected {kept}")
        ran["any"] = True

    def setup() -> None:
        check()
        refill()

    library_s, raw_s = alternating(engine, raw, runs=args.runs, setup=setup, desc="sweeps")
    check()
    result = Throughput("sweep of expired emails", expired, library_s, raw_s)
    print_throughput_table([result])
    library_rate, raw_rate = result.rates()
    share = library_rate / raw_rate
    verdict = "meets" if share >= TARGET else "misses"
    print(f"engine at {share:.0%} of raw SQL: {verdict} the {TARGET:.0%} target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The one retention engine: every declared retention rule, enforced from the registry.

Each app declares in its `privacy.py` how long each model's rows are kept and what
happens then (`privacy.registry.Retention`); nothing else in the code decides it. For
every rule of every declared model, `retention_sweep` selects the rows past their
period (or whose person withdrew the consent they were kept on) and hands them, in
batches, to the one erasure primitive (`privacy.erasure`), which keeps what a legal
hold covers (GDPR Art 5(1)(e) storage limitation, Art 17(1)(a), (b) and 17(3)(b), (e)).

- A rule that deletes rows deletes them (and what cascades from them);
- a rule that clears or anonymises sets the fields it governs and keeps the rows;
- a rule that erases the person (`erases_subject`) runs the full erasure of each
  person whose row expired, which shreds their key.

Each batch is one transaction with one audit event (`RETENTION_SWEPT`: model, rule,
rows, rows held back), never one per row. A sweep is idempotent: a second run finds
nothing due. `manage.py retention_sweep` runs it (with `--dry-run` and `--model`), and
Celery beat runs `retention.tasks.retention_sweep` every hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import BooleanField, F, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import consent_holders_q
from qualipact.privacy.erasure import (
    held_subject_ids,
    rows_erase,
    rows_update,
    rows_without_holds,
    subject_erase,
    values_differ_q,
)
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.registry import (
    Erasure,
    ModelDeclaration,
    Retention,
    lookups_q,
    registry,
)
from qualipact.retention.events import retention_swept_event

ACTOR = Actor.system("retention_sweep")
# Rows per batch (one transaction, one audit event each): large enough that a batch's
# fixed costs (choosing its range, the audit event, the commit) are small beside the rows.
BATCH_SIZE = 20_000
# Erasing a person is many statements (every declared table, the key): smaller batches.
SUBJECT_BATCH_SIZE = 100


@dataclass(frozen=True)
class Sweep:
    """One retention rule of one declared model, ready to run."""

    declaration: ModelDeclaration
    rule: Retention
    # The fields the rule clears or anonymises (empty when it deletes rows).
    fields: tuple[str, ...]

    @property
    def number(self) -> int:
        """The rule's place among its model's rules (1 = the first declared)."""
        return self.declaration.retention_rules.index(self.rule) + 1

    @property
    def label(self) -> str:
        return self.declaration.label

    @property
    def action(self) -> str:
        if self.rule.erases_subject:
            return "erase_subject"
        return str(self.rule.then)

    def values(self) -> dict[str, object]:
        """Field -> value a clearing or anonymising rule sets."""
        specs = self.declaration.fields
        if self.rule.then is Erasure.NULL:
            return dict.fromkeys(self.fields)
        return {name: specs[name].anonymise_to for name in self.fields}

    def due(self, now: datetime) -> QuerySet:
        """Every row this rule says must go now, before legal holds are applied."""
        model = self.declaration.model
        rows = model._base_manager.filter(lookups_q(self.rule.only))
        if self.rule.unless:
            rows = rows.exclude(lookups_q(self.rule.unless))
        expired = Q(pk__in=[])
        if self.rule.period is not None:
            anchor: F | Coalesce = F(self.rule.after)
            if self.rule.or_after is not None:
                anchor = Coalesce(self.rule.after, self.rule.or_after)
            rows = rows.alias(_retention_anchor=anchor)
            expired |= Q(_retention_anchor__lt=self.rule.cutoff(now))
        if self.rule.ends_with_consent is not None:
            holders = consent_holders_q(self.rule.ends_with_consent)
            subject = str(self.declaration.subject_field)
            if holders is None:
                expired = Q()  # nobody holds a grant: every row of the rule goes
            else:
                consenting = DataSubject.objects.filter(holders).values("pk")
                expired |= ~Q(**{f"{subject}__in": consenting})
        return rows.filter(expired)


@dataclass
class SweepResult:
    """What one rule did (or, in a dry run, would do)."""

    label: str
    rule: str
    action: str
    due: int = 0
    done: int = 0
    held_back: int = 0
    batches: int = 0


def sweeps(*, model: str | None = None) -> list[Sweep]:
    """Every retention rule of every declared model (one model's with `model`, a label
    such as "contact.Inquiry"). Raises ApplicationError for an undeclared label."""
    declarations = registry.declarations()
    if model is not None:
        declarations = [d for d in declarations if d.label.lower() == model.lower()]
        if not declarations:
            raise ApplicationError("No declared model has this label", {"model": model})
    found = []
    for declaration in declarations:
        for rule in declaration.retention_rules:
            fields = tuple(
                sorted(name for name, spec in declaration.fields.items() if spec.retention == rule)
            )
            row_level = rule.erases_subject or rule.then is Erasure.DELETE_ROW
            if row_level or fields:
                found.append(Sweep(declaration, rule, () if row_level else fields))
    return found


def _batches(rows: QuerySet, size: int) -> Iterator[list[Any]]:
    """Primary keys of the rows, `size` at a time, in key order (people to erase)."""
    last = None
    ordered = rows.order_by("pk").values_list("pk", flat=True)
    while True:
        page = ordered.filter(pk__gt=last) if last is not None else ordered
        keys = list(page[:size])
        if not keys:
            return
        yield keys
        last = keys[-1]


def _physical_ranges(model: type[Model], size: int) -> Iterator[Q] | None:
    """Conditions selecting the table about `size` rows at a time in the order the rows
    are stored: rowid ranges on SQLite, block ranges of the ctid on PostgreSQL (a TID
    range scan, PostgreSQL 14 and later). A batch then reads and writes neighbouring
    pages, as a single DELETE does; walking by a random key (a UUID) instead touches a
    different page for nearly every row, and was several times slower on a large table.
    None for other databases: the caller walks by primary key."""
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MIN(rowid), MAX(rowid) FROM {table}")  # noqa: S608
            low, high = cursor.fetchone()
        if low is None:
            return iter(())
        return (
            Q(
                RawSQL(  # noqa: S611 - a quoted table name; values are parameters
                    f"{table}.rowid BETWEEN %s AND %s",
                    (first, first + size - 1),
                    output_field=BooleanField(),
                )
            )
            for first in range(low, high + 1, size)
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The table's size in blocks, and its rows as the statistics estimate them
            # (counting them would read the whole table once more); never analysed
            # (reltuples -1, PostgreSQL 14+) or analysed while empty (0): counted.
            cursor.execute(
                "SELECT pg_relation_size(c.oid) / current_setting('block_size')::int, "
                "c.reltuples FROM pg_class c WHERE c.oid = %s::regclass",
                [table],
            )
            blocks, rows = cursor.fetchone()
            if rows <= 0:
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - quoted name
                rows = cursor.fetchone()[0]
        step = max(1, int(size * blocks / max(rows, 1)))
        return (
            Q(
                RawSQL(  # noqa: S611 - a quoted table name; values are parameters
                    f"{table}.ctid >= %s::tid AND {table}.ctid < %s::tid",
                    (f"({first},0)", f"({first + step},0)"),
                    output_field=BooleanField(),
                )
            )
            for first in range(0, blocks + 1, step)
        )
    return None


def _key_ranges(rows: QuerySet, size: int) -> Iterator[Q]:
    """Primary-key ranges of `size` of the rows each, in key order; only each range's
    last key is read. The last range is open, and takes whatever is left."""
    ordered = rows.order_by("pk").values_list("pk", flat=True)
    after = None
    while True:
        page = ordered.filter(pk__gt=after) if after is not None else ordered
        upto = next(iter(page[size - 1 : size]), None)
        start = Q(pk__gt=after) if after is not None else Q()
        if upto is None:
            yield start
            return
        yield start & Q(pk__lte=upto)
        after = upto


def _audit(sweep: Sweep, *, done: int, held: int) -> None:
    retention_swept_event(
        model=sweep.label,
        rule=sweep.number,
        action=sweep.action,
        rows=done,
        held_back=held,
        actor=ACTOR,
    )


@transaction.atomic
def _people_erase(sweep: Sweep, keys: list[Any]) -> tuple[int, int]:
    """Erase one batch of people whose row expired; returns (erased, kept by a hold)."""
    done = held = 0
    for subject in DataSubject.objects.filter(pk__in=keys).order_by("pk"):
        receipt = subject_erase(subject=subject, actor=ACTOR)
        done, held = (done, held + 1) if receipt.kept else (done + 1, held)
    _audit(sweep, done=done, held=held)
    return done, held


@transaction.atomic
def _rows_apply(sweep: Sweep, where: Q, now: datetime) -> tuple[int, int]:
    """Apply the rule to the due rows matching `where` (one range of the table); returns
    (done, kept by a hold). Writes the batch's audit event when there was anything."""
    rows = sweep.due(now).filter(where)
    if sweep.fields:
        rows = rows.filter(_pending_q(sweep))
    held_people = held_subject_ids(sweep.declaration.model)
    expected = rows.count() if held_people else 0
    if sweep.fields:
        done = rows_update(rows, sweep.values())
    else:
        done = rows_erase(rows).get(sweep.label, 0)
    held = max(expected - done, 0)
    if done or held:
        _audit(sweep, done=done, held=held)
    return done, held


def retention_sweep(
    *,
    now: datetime | None = None,
    model: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[SweepResult], None] | None = None,
) -> list[SweepResult]:
    """Enforce every declared retention rule (or one model's): returns one result per
    rule, with the rows due, the rows done and the rows a legal hold kept.

    `dry_run` counts what is due and what holds keep, changing nothing. `progress` is
    called after each batch. Raises ApplicationError for an unknown `model` label.
    """
    now = now or timezone.now()
    results = []
    for sweep in sweeps(model=model):
        result = SweepResult(label=sweep.label, rule=sweep.rule.describe(), action=sweep.action)
        due = sweep.due(now)
        if sweep.rule.erases_subject:
            path = str(sweep.declaration.subject_field)
            people = DataSubject.objects.filter(pk__in=due.values(path), erased_at__isnull=True)
            result.due = people.count()
            if not dry_run and result.due:
                for keys in _batches(people, min(SUBJECT_BATCH_SIZE, batch_size)):
                    _tally(result, *_people_erase(sweep, keys), progress)
        else:
            pending = due.filter(_pending_q(sweep)) if sweep.fields else due
            if dry_run:
                result.due = pending.count()
                if result.due and held_subject_ids(sweep.declaration.model):
                    result.held_back = result.due - rows_without_holds(pending).count()
            else:
                # No count first: it would read the table once more than the sweep does.
                # What was due is what the batches did, or a hold kept.
                table = sweep.declaration.model
                ranges = _physical_ranges(table, batch_size) or _key_ranges(pending, batch_size)
                for where in ranges:
                    _tally(result, *_rows_apply(sweep, where, now), progress)
                result.due = result.done + result.held_back
        results.append(result)
    return results


def _tally(
    result: SweepResult,
    done: int,
    held: int,
    progress: Callable[[SweepResult], None] | None,
) -> None:
    if not (done or held):
        return  # a range of the table with nothing due: no batch
    result.done += done
    result.held_back += held
    result.batches += 1
    if progress is not None:
        progress(result)


def _pending_q(sweep: Sweep) -> Q:
    """Rows whose governed fields do not yet hold what the rule sets."""
    return values_differ_q(sweep.values())


def unenforced_rules() -> list[str]:
    """Declared retention rules the engine would not act on (a test keeps this empty)."""
    enforced = {(s.label, s.rule) for s in sweeps()}
    return [
        f"{d.label}: {rule.describe()}"
        for d in registry.declarations()
        for rule in d.retention_rules
        if (d.label, rule) not in enforced
    ]

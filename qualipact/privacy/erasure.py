"""The one erasure primitive: every path that erases or sweeps personal data goes through it.

- `subject_erase` erases one person (a request, an account deletion, a child's account);
- `rows_erase` erases the rows a sweep selected (retention, a withdrawal, "forget");
- `rows_without_holds` narrows a selection to what may be erased, for a sweep that
  empties rows in a way of its own (an export file's content).

All three honour legal holds (GDPR Art 17(3)(b) and (e)): a hold on a person keeps the
models it covers, whoever asks. Holds live in the `retention` app, above this one; it
registers itself as a hold source (`hold_source_register`), so the core never imports
it. `qualipact/privacy/tests/test_erasure_callers.py` lists every caller and every
other delete in the code, so a new path that bypasses this module fails the suite.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from django.db import transaction
from django.db.models import CASCADE, Model, Q, QuerySet
from django.db.models.deletion import Collector
from django.utils import timezone

from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.models import DataSubject
from qualipact.privacy.registry import Erasure, ModelDeclaration, registry

# -- legal holds, from whichever app keeps them -----------------------------------------


class HoldSource(Protocol):
    def kept(self, subject_id: UUID) -> Mapping[str, str]:
        """Model label -> why it is kept, for every declared model held for this person."""

    def held_subjects(self, label: str) -> Iterable[UUID]:
        """The people whose rows of this model are held."""


_hold_sources: dict[str, HoldSource] = {}


def hold_source_register(name: str, source: HoldSource) -> None:
    """Register (or replace) a source of legal holds; the retention app registers one."""
    _hold_sources[name] = source


def subject_holds(subject_id: UUID) -> dict[str, str]:
    """Model label -> why it is kept, over every hold source, with the models whose
    deletion would take held rows with it (`_parents_deleted_with`)."""
    kept: dict[str, str] = {}
    for source in _hold_sources.values():
        for label, why in source.kept(subject_id).items():
            kept.setdefault(label, why)
    for label, why in list(kept.items()):
        for parent in _parents_deleted_with(label):
            kept.setdefault(parent, why)
    return kept


def _held_subjects(label: str) -> set[UUID]:
    labels = {label} | {
        child
        for declaration in registry.subject_declarations()
        if label in _parents_deleted_with(child := declaration.label)
    }
    return {
        pk
        for source in _hold_sources.values()
        for held in labels
        for pk in source.held_subjects(held)
    }


@functools.cache
def _parents_deleted_with(label: str) -> frozenset[str]:
    """The declared models whose rows, when deleted, delete this model's rows with them
    (a foreign key with `on_delete=CASCADE`, followed through: a ticket's attachment goes
    with its message, which goes with its ticket). A hold that keeps a model keeps these
    too, or deleting them would take the held rows along. Cached: the registry is fixed
    once the apps are ready."""
    by_model = {d.model: d for d in registry.subject_declarations()}
    by_label = {d.label: d for d in by_model.values()}
    found: set[str] = set()
    todo = [label]
    while todo:
        current = by_label.get(todo.pop())
        if current is None:
            continue
        for model_field in current.model._meta.concrete_fields:
            remote, related = model_field.remote_field, model_field.related_model
            if remote is None or related is None or remote.on_delete is not CASCADE:
                continue
            parent = by_model.get(related)
            if parent is not None and parent.deletes_row and parent.label not in found:
                found.add(parent.label)
                todo.append(parent.label)
    return frozenset(found)


# -- steps every erasure of a person takes first, from the apps that need them -----------


class ErasureStep(Protocol):
    def __call__(self, *, subject: DataSubject, actor: Actor) -> None:
        """Called inside the erasure's transaction, before any row is touched."""


_erasure_steps: dict[str, ErasureStep] = {}


def erasure_step_register(name: str, step: ErasureStep) -> None:
    """Register (or replace) a step run first by every complete erasure of a person: the
    accounts app ends the person's sessions, so an erased person is signed out
    everywhere whichever path erased them (a request, retention, a parent)."""
    _erasure_steps[name] = step


def held_subject_ids(model: type[Model]) -> set[UUID]:
    """The people whose rows of this declared model a legal hold keeps (none for a table
    that names nobody)."""
    declaration = _declaration_of(model)
    if declaration.subject_field is None:
        return set()
    return _held_subjects(declaration.label)


def _declaration_of(model: type[Model]) -> ModelDeclaration:
    declaration = registry.get(model)
    if declaration is None:
        raise ValueError(f"{model._meta.label} is not declared personal data")
    return declaration


def rows_without_holds(rows: QuerySet[Any]) -> QuerySet[Any]:
    """The rows of a declared model that no legal hold keeps (all of them for tables
    without a subject, such as lockout records)."""
    declaration = _declaration_of(rows.model)
    if declaration.subject_field is None:
        return rows
    held = _held_subjects(declaration.label)
    if not held:
        return rows
    return rows.exclude(**{f"{declaration.subject_field}__in": held})


def rows_update(rows: QuerySet[Any], values: Mapping[str, Any]) -> int:
    """Set fields of the selected rows of a declared model (a retention rule clearing or
    anonymising what it governs), except rows a legal hold keeps; returns rows changed.
    Rows already holding the values are left alone, so a second run changes nothing."""
    _declaration_of(rows.model)
    with transaction.atomic(using=rows.db):
        rows = rows_without_holds(rows)
        return int(rows.filter(values_differ_q(values)).update(**values))


def values_differ_q(values: Mapping[str, Any]) -> Q:
    """Rows where at least one of the fields does not hold its value yet."""
    differ = Q()
    for name, value in values.items():
        differ |= Q(**{f"{name}__isnull": False}) if value is None else ~Q(**{name: value})
    return differ


def rows_erase(rows: QuerySet[Any], *, delete: bool = True) -> dict[str, int]:
    """Erase the selected rows of a declared model, except those a legal hold keeps.

    `delete=True` deletes the rows (and what cascades from them); `delete=False` applies
    each field's declared erasure (null or anonymise) and keeps the rows. Returns rows
    affected per model label (cascaded models included). The caller writes its own audit
    event (what was swept and why) in the same transaction.
    """
    declaration = _declaration_of(rows.model)
    with transaction.atomic(using=rows.db):
        rows = rows_without_holds(rows)
        if delete:
            return _rows_delete(rows, declaration)
        changed = _erase_fields(rows, declaration)
        return {declaration.label: int(changed["rows"])}


# -- one person ---------------------------------------------------------------------------


@dataclass
class ErasureReceipt:
    subject_id: str
    # Per model label: {"action": delete_row | update, "rows": n, "fields": [...]}.
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per model label kept whole, why (a legal hold): nothing of it was touched.
    kept: dict[str, str] = field(default_factory=dict)
    key_destroyed: bool = False

    @property
    def rows_affected(self) -> int:
        return sum(entry["rows"] for entry in self.models.values())

    @property
    def complete(self) -> bool:
        return not self.kept


def subject_erase(
    *, subject: DataSubject, actor: Actor, keep: Mapping[str, str] | None = None
) -> ErasureReceipt:
    """Apply every declared erasure action to the subject's data, then shred their key.

    Legal holds are honoured whoever calls: the models an active hold covers are left as
    they are (Art 17(3)(b) and (e)), with their reason in `receipt.kept`; `keep` adds
    more (model label -> reason). When anything is kept the key is not shredded (the kept
    data must stay readable) and the subject is not marked erased; running the erasure
    again once the hold is lifted completes it.

    The key is destroyed once the row changes have committed (at once when called
    outside a transaction; at the caller's commit otherwise, and never if it rolls
    back), and `receipt.key_destroyed` is set then. Idempotent: a second run finds
    nothing left and completes a shred that a crash interrupted.
    """
    receipt = ErasureReceipt(subject_id=str(subject.pk))

    def shred() -> None:
        receipt.key_destroyed = subject_shred(subject=subject, actor=actor)

    with transaction.atomic():
        # Lock the person first: a concurrent submission waits, then sees the erasure.
        subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
        kept = {**subject_holds(subject.pk), **dict(keep or {})}
        if not kept:
            for step in _erasure_steps.values():
                step(subject=subject, actor=actor)
        for declaration in registry.subject_declarations():
            if declaration.label in kept:
                receipt.kept[declaration.label] = kept[declaration.label]
                continue
            path = str(declaration.subject_field)
            rows = declaration.model._base_manager.filter(**{path: subject})
            if declaration.deletes_row:
                count = _rows_delete(rows, declaration).get(declaration.label, 0)
                receipt.models[declaration.label] = {"action": "delete_row", "rows": count}
                continue
            changed = _erase_fields(rows, declaration)
            receipt.models[declaration.label] = changed
        if receipt.complete:
            subject.erased_at = subject.erased_at or timezone.now()
            subject.save(update_fields=["erased_at", "updated_at"])
        audit_log(
            code=EventCode.SUBJECT_ERASED,
            actor=actor,
            subject_id=subject.pk,
            data={"models": receipt.models, "kept": sorted(receipt.kept)},
        )
        if receipt.complete:
            transaction.on_commit(shred)
    return receipt


def _rows_delete(rows: QuerySet[Any], declaration: ModelDeclaration) -> dict[str, int]:
    """Delete the rows: one DELETE when nothing cascades from them and nobody listens for
    deletes (what Django's own fast path does, without its savepoint per model), else
    through Django's collector, which follows cascades and sends the signals."""
    if Collector(using=rows.db, origin=rows).can_fast_delete(rows):
        # None when the selection is empty by construction (pk__in=[]): no query ran.
        return {declaration.label: int(rows._raw_delete(rows.db) or 0)}
    _, per_model = rows.delete()
    return {declaration.label: 0, **{label: int(n) for label, n in per_model.items()}}


def _erase_fields(rows: QuerySet[Any], declaration: ModelDeclaration) -> dict[str, Any]:
    """Null or anonymise the declared fields of rows that erasure keeps."""
    constant: dict[str, object] = {}
    computed = []
    for spec in declaration.fields.values():
        if spec.erasure is Erasure.NULL:
            constant[spec.name] = None
        elif callable(spec.anonymise_to):
            computed.append(spec)
        else:
            constant[spec.name] = spec.anonymise_to
    count = rows.update(**constant) if constant else rows.count()
    if computed:
        names = [spec.name for spec in computed]
        for row in rows.only("pk", *names):
            for spec in computed:
                setattr(row, spec.name, spec.anonymised(getattr(row, spec.name)))
            row.save(update_fields=names)
    return {"action": "update", "rows": count, "fields": sorted(declaration.fields)}


@transaction.atomic
def subject_shred(*, subject: DataSubject, actor: Actor) -> bool:
    """Destroy the subject's data key; their ciphertext anywhere becomes unreadable."""
    destroyed = vault.key_destroy(subject.pk)
    audit_log(
        code=EventCode.SUBJECT_KEY_SHREDDED,
        actor=actor,
        subject_id=subject.pk,
        data={"key_existed": destroyed},
    )
    return destroyed

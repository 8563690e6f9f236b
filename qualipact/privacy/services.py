"""Writes on data subjects: creation, identifiers, restriction, erasure and key shredding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.deletion import Collector
from django.utils import timezone

from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.models import DataSubject, SubjectIdentifier
from qualipact.privacy.registry import Erasure, ModelDeclaration, registry
from qualipact.privacy.selectors import subject_find_by_email


@transaction.atomic
def subject_create(*, actor: Actor) -> DataSubject:
    subject = DataSubject.objects.create()
    audit_log(code=EventCode.SUBJECT_CREATED, actor=actor, subject_id=subject.pk)
    return subject


@transaction.atomic
def subject_for_email(*, email: str, actor: Actor) -> DataSubject:
    """The subject known by this email (blind-index lookup), created if nobody is.

    The subject row is locked, so an erasure running at the same moment finishes
    first and nothing new is ever attached to an erased person.
    """
    existing = subject_find_by_email(email)
    if existing is not None:
        locked = DataSubject.objects.select_for_update().get(pk=existing.pk)
        if locked.erased_at is None:
            return locked
    index = vault.blind_index("email", email)
    try:
        with transaction.atomic():
            subject = subject_create(actor=actor)
            SubjectIdentifier.objects.create(
                subject=subject, kind=SubjectIdentifier.Kind.EMAIL, value_index=index
            )
            return subject
    except IntegrityError:
        # A concurrent request registered the same address first.
        return SubjectIdentifier.objects.get(
            kind=SubjectIdentifier.Kind.EMAIL, value_index=index
        ).subject


@transaction.atomic
def subject_restrict(*, subject: DataSubject, actor: Actor, reason: str) -> DataSubject:
    if subject.restricted_at is None:
        subject.restricted_at = timezone.now()
        subject.save(update_fields=["restricted_at", "updated_at"])
    audit_log(
        code=EventCode.SUBJECT_RESTRICTED,
        actor=actor,
        subject_id=subject.pk,
        data={"reason": reason},
    )
    return subject


@transaction.atomic
def subject_restriction_lift(*, subject: DataSubject, actor: Actor, reason: str) -> DataSubject:
    subject.restricted_at = None
    subject.save(update_fields=["restricted_at", "updated_at"])
    audit_log(
        code=EventCode.SUBJECT_RESTRICTION_LIFTED,
        actor=actor,
        subject_id=subject.pk,
        data={"reason": reason},
    )
    return subject


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

    `keep` maps model labels to the reason their rows must stay (an active legal hold,
    Art 17(3)(b) and (e)): those rows are left as they are, the key is not shredded (the
    kept data must stay readable) and the subject is not marked erased; running the
    erasure again once the hold is lifted completes it.

    The key is destroyed once the row changes have committed (at once when called
    outside a transaction; at the caller's commit otherwise, and never if it rolls
    back), and `receipt.key_destroyed` is set then. Idempotent: a second run finds
    nothing left and completes a shred that a crash interrupted.
    """
    receipt = ErasureReceipt(subject_id=str(subject.pk))
    keep = dict(keep or {})

    def shred() -> None:
        receipt.key_destroyed = subject_shred(subject=subject, actor=actor)

    with transaction.atomic():
        # Lock the person first: a concurrent submission waits, then sees the erasure.
        subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
        for declaration in registry.subject_declarations():
            if declaration.label in keep:
                receipt.kept[declaration.label] = keep[declaration.label]
                continue
            path = str(declaration.subject_field)
            rows = declaration.model._base_manager.filter(**{path: subject})
            if declaration.deletes_row:
                count = _rows_delete(rows, declaration)
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


def _rows_delete(rows: QuerySet[Any], declaration: ModelDeclaration) -> int:
    """Delete the rows: one DELETE when nothing cascades from them and nobody listens for
    deletes (what Django's own fast path does, without its savepoint per model), else
    through Django's collector, which follows cascades and sends the signals."""
    if Collector(using=rows.db, origin=rows).can_fast_delete(rows):
        return int(rows._raw_delete(rows.db))
    _, per_model = rows.delete()
    return int(per_model.get(declaration.label, 0))


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

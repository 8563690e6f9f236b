"""Reads across the registry: everything stored about one person, decrypted and described."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connections, router

from qualipact.privacy import vault
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.fields import encrypted_context
from qualipact.privacy.models import DataSubject, SubjectIdentifier
from qualipact.privacy.registry import ModelDeclaration, ResolvedField, registry


@dataclass(frozen=True)
class CollectedField:
    """One stored field. For a secret (`spec.secret`) `value` is always None and
    `withheld` says whether a value is stored: secrets never leave the database."""

    name: str
    value: Any
    spec: ResolvedField
    withheld: bool = False

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, datetime | date):
            value = value.isoformat()
        shown: dict[str, Any] = {"field": self.name, "value": value}
        if self.withheld:
            shown["withheld"] = self.spec.secret_reason
        return {
            **shown,
            "category": str(self.spec.category),
            "purposes": list(self.spec.purposes),
            "legal_basis": str(self.spec.legal_basis),
            "source": str(self.spec.source),
            "retention": self.spec.retention.describe(),
            "portable": self.spec.portable,
        }


@dataclass(frozen=True)
class CollectedRecord:
    model: str
    pk: str
    fields: list[CollectedField]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "id": self.pk, "fields": [f.as_dict() for f in self.fields]}


@dataclass
class SubjectData:
    subject_id: uuid.UUID
    records: list[CollectedRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": str(self.subject_id),
            "records": [record.as_dict() for record in self.records],
        }


def subject_collect(
    subject: DataSubject, *, actor: Actor | None = None, staff_view: StaffView | None = None
) -> SubjectData:
    """Every declared row and field of the person, decrypted, with what the registry says of it.

    Secret fields (`PersonalField(secret=True)`) are never read out: their value is None
    and `withheld` tells whether one is stored. A field declared with a `mask` is handed
    out only through it (an email's links and codes masked). One query per declared
    model and at most one key fetch. When `actor` is given the read is audited (staff
    reads and exports are). When a staff member will see the values (`staff_view`), each
    model's shown fields are also recorded as a staff access (privacy.access), which the
    person sees on "Who accessed my data".
    """
    collected = SubjectData(subject_id=subject.pk)
    key: bytes | None = None
    for declaration in registry.subject_declarations():
        specs = list(declaration.fields.values())
        for pk, *values in _rows_of(declaration, subject.pk):
            fields = []
            for spec, value in zip(specs, values, strict=True):
                if spec.secret:
                    stored = value not in (None, "", b"") and value != {} and value != []
                    fields.append(CollectedField(spec.name, None, spec, withheld=stored))
                    continue
                if spec.encrypted and value is not None:
                    if key is None:
                        key = vault.data_key(subject.pk)
                    value = vault.decrypt_with_key(
                        key,
                        subject_id=subject.pk,
                        context=encrypted_context(declaration.model, spec.name),
                        ciphertext=value,
                    )
                if spec.mask is not None and value is not None:
                    value = spec.mask(value)
                fields.append(CollectedField(spec.name, value, spec))
            collected.records.append(CollectedRecord(declaration.label, str(pk), fields))
    actor = actor or (staff_view.actor if staff_view else None)
    if actor is not None:
        audit_log(
            code=EventCode.SUBJECT_DATA_COLLECTED,
            actor=actor,
            subject_id=subject.pk,
            data={"records": len(collected.records)},
        )
    if staff_view is not None:
        _record_staff_view(staff_view, subject, collected)
    return collected


def _record_staff_view(view: StaffView, subject: DataSubject, collected: SubjectData) -> None:
    shown: dict[str, tuple[set[str], int]] = {}
    for record in collected.records:
        names, count = shown.get(record.model, (set(), 0))
        names.update(f.name for f in record.fields if f.value is not None)
        shown[record.model] = (names, count + 1)
    for model, (names, count) in shown.items():
        if names:
            view.record(subject=subject, model=model, fields=names, records=count)


_PLACEHOLDER = uuid.UUID(int=0)
_statements: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _compiled(declaration: ModelDeclaration, alias: str) -> tuple[str, list[Any]]:
    """SQL for "the person's rows of this model", compiled once per database alias.

    Django compiles a queryset on every call, which costs several times the query
    itself for a one-person read; here only the subject id changes between calls.
    """
    cache_key = (alias, declaration.label, tuple(declaration.fields))
    if cache_key not in _statements:
        queryset = (
            declaration.model._base_manager.using(alias)
            .filter(**{f"{declaration.subject_field}_id": _PLACEHOLDER})
            .order_by()  # one person's rows, read by index; no sort
            .values_list("pk", *declaration.fields)
        )
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        placeholder = DataSubject._meta.pk.get_db_prep_value(_PLACEHOLDER, connections[alias])
        if list(params) != [placeholder]:
            raise RuntimeError(f"unexpected parameters compiling {declaration.label} rows")
        columns = [column for column, _, _ in compiler.select]
        _statements[cache_key] = (sql, columns)
    return _statements[cache_key]


def _rows_of(declaration: ModelDeclaration, subject_id: uuid.UUID) -> list[list[Any]]:
    alias = router.db_for_read(declaration.model)
    connection = connections[alias]
    sql, columns = _compiled(declaration, alias)
    subject_value = DataSubject._meta.pk.get_db_prep_value(subject_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [subject_value])
        rows = cursor.fetchall()
    if not rows:
        return []
    # The same conversions the ORM applies (UUIDs, dates, ciphertext markers).
    converters = [
        (
            index,
            connection.ops.get_db_converters(column)
            + column.output_field.get_db_converters(connection),
            column,
        )
        for index, column in enumerate(columns)
    ]
    converted = []
    for row in rows:
        values = list(row)
        for index, functions, column in converters:
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        converted.append(values)
    return converted


def subject_find_by_email(email: str) -> DataSubject | None:
    identifier = (
        SubjectIdentifier.objects.select_related("subject")
        .filter(kind=SubjectIdentifier.Kind.EMAIL, value_index=vault.blind_index("email", email))
        .first()
    )
    return identifier.subject if identifier else None

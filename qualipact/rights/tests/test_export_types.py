"""The export carries every field the registry declares, whatever its type (item 7-9 of the
hardening issue): a property test over the whole registry, not a list of known fields."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import jsonschema
import pytest
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import from_field

from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.registry import ModelDeclaration, registry
from qualipact.privacy.selectors import CollectedField, CollectedRecord
from qualipact.rights.schema import export_schema
from qualipact.rights.services.exports import export_document, export_members

# Text as people type it, lone surrogates included (they were once accepted by the API).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _strategy(model: type[models.Model], name: str, spec) -> st.SearchStrategy:
    """A value as `subject_collect` hands it out for this declared field."""
    field = model._meta.get_field(name)
    if spec.secret:
        return st.none()  # secrets are never read out; see test_secrets.py
    if isinstance(field, EncryptedTextField):
        return st.none() | ANY_TEXT  # decrypted text
    if isinstance(field, models.JSONField):
        return JSON_VALUES
    if isinstance(field, models.BinaryField):
        return st.none() | st.binary(max_size=40)
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return st.none() | _strategy_for_pk(field.target_field)
    if isinstance(field, models.CharField | models.TextField):
        return st.none() | ANY_TEXT
    return st.none() | from_field(field)


def _strategy_for_pk(field: models.Field) -> st.SearchStrategy:
    if isinstance(field, models.UUIDField):
        return st.uuids()
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return _strategy_for_pk(field.target_field)
    if isinstance(field, models.CharField):
        return ANY_TEXT
    return st.integers(min_value=1, max_value=2**62)


def _exported() -> list[ModelDeclaration]:
    return [d for d in registry.subject_declarations() if d.in_exports]


@st.composite
def records(draw, declaration: ModelDeclaration) -> CollectedRecord:
    fields = []
    for name, spec in declaration.fields.items():
        value = draw(_strategy(declaration.model, name, spec))
        withheld = spec.secret and draw(st.booleans())
        fields.append(CollectedField(name, value, spec, withheld=withheld))
    return CollectedRecord(declaration.label, str(draw(st.uuids())), fields)


def test_it_has_a_strategy_for_every_declared_field_type():
    kinds = set()
    for declaration in _exported():
        for name, spec in declaration.fields.items():
            strategy = _strategy(declaration.model, name, spec)
            kinds.add(type(declaration.model._meta.get_field(name)).__name__)
            assert strategy is not None
    # The registry really holds the awkward types this test is about.
    assert {"JSONField", "BinaryField", "DateTimeField", "BooleanField"} <= kinds


@pytest.mark.django_db  # references to catalogue rows (a consent wording) are looked up
@pytest.mark.parametrize("kind", ["access", "portability"])
@pytest.mark.parametrize("declaration", _exported(), ids=lambda d: d.label)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_it_exports_any_value_of_every_declared_field(declaration, kind, data):
    collected = data.draw(st.lists(records(declaration), min_size=1, max_size=3))
    document = export_document(
        export_id=uuid.uuid4(),
        kind=kind,
        generated_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        subject_id=uuid.uuid4(),
        records=collected,
    )
    members = export_members(document)

    parsed = json.loads(members["data.json"].decode("utf-8"))
    jsonschema.Draft202012Validator(export_schema()).validate(parsed)
    for name, content in members.items():
        content.decode("utf-8")  # every file is valid UTF-8
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            assert rows[0][0] == "record_id"
    secrets = {name for name, spec in declaration.fields.items() if spec.secret}
    for record in parsed["records"]:
        for entry in record["fields"]:
            if entry["field"] in secrets:
                assert entry["value"] is None


def test_it_never_lets_ciphertext_or_a_blind_index_into_an_export():
    # Blind indexes are declared secret (validation refuses them otherwise), and a
    # secret's value never leaves subject_collect.
    for declaration in registry.subject_declarations():
        for name, spec in declaration.fields.items():
            field = declaration.model._meta.get_field(name)
            if isinstance(field, BlindIndexField):
                assert spec.secret, f"{declaration.label}.{name}"

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from qualipact.contact.models import Inquiry
from qualipact.privacy import registry as registry_module
from qualipact.privacy.models import SubjectIdentifier
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import (
    Category,
    Erasure,
    PersonalField,
    Registry,
    Retention,
    Source,
    registry,
)

RETENTION = Retention(after="created_at", period=timedelta(days=30))
INQUIRY_NON_PERSONAL = [
    *("id", "subject", "kind", "status", "created_at", "updated_at"),
    *("queue", "assigned_to", "assigned_at", "closed_at", "sent_signed_in"),
]


def declare_inquiry(target: Registry, **overrides) -> None:
    fields = {
        "name": PersonalField(Category.IDENTITY, encrypted=True),
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_index": PersonalField(Category.IDENTIFIER, blind_index=True, secret=True),
        "phone": PersonalField(Category.CONTACT, encrypted=True),
        "postal_address": PersonalField(Category.CONTACT, encrypted=True),
        "subject_line": PersonalField(Category.COMMUNICATION, encrypted=True),
        "message": PersonalField(Category.COMMUNICATION, encrypted=True),
    }
    fields.update(overrides.pop("fields", {}))
    kwargs = {
        "purposes": ["customer_support"],
        "source": Source.PROVIDED,
        "retention": RETENTION,
        "fields": fields,
        "non_personal": INQUIRY_NON_PERSONAL,
    }
    kwargs.update(overrides)
    target.declare(Inquiry, **kwargs)


def problems_of(target: Registry) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        target.validate()
    return str(excinfo.value)


def test_it_accepts_a_correct_declaration():
    fresh = Registry()
    declare_inquiry(fresh)
    fresh.validate()


def test_it_names_a_declared_field_that_does_not_exist():
    fresh = Registry()
    declare_inquiry(fresh, fields={"nickname": PersonalField(Category.IDENTITY)})
    assert "contact.Inquiry.nickname: declared but the model has no such field" in problems_of(
        fresh
    )


def test_it_names_an_unknown_purpose():
    fresh = Registry()
    declare_inquiry(fresh, purposes=["customer_support", "reselling"])
    assert "unknown purpose 'reselling'" in problems_of(fresh)


def test_it_refuses_a_legal_basis_that_no_purpose_has():
    fresh = Registry()
    declare_inquiry(fresh, legal_basis=LegalBasis.CONSENT)
    assert "legal basis 'consent' is not the basis of any of its purposes" in problems_of(fresh)


def test_it_refuses_an_encryption_flag_that_the_field_type_contradicts():
    fresh = Registry()
    declare_inquiry(fresh, fields={"message": PersonalField(Category.COMMUNICATION)})
    assert "contact.Inquiry.message: encrypted=False but the field type disagrees" in problems_of(
        fresh
    )


def test_it_refuses_to_null_a_field_that_is_not_nullable():
    fresh = Registry()
    declare_inquiry(
        fresh,
        fields={"name": PersonalField(Category.IDENTITY, encrypted=True, erasure=Erasure.NULL)},
    )
    assert "erasure clears the field but it is not nullable" in problems_of(fresh)


def test_it_refuses_a_retention_anchor_that_is_not_a_date():
    fresh = Registry()
    declare_inquiry(fresh, retention=Retention(after="kind", period=timedelta(days=1)))
    assert "counts from 'kind', which is not a date field" in problems_of(fresh)


def test_it_requires_a_subject_foreign_key():
    from qualipact.notices.models import PolicyVersion

    fresh = Registry()
    fresh.declare(
        PolicyVersion,
        purposes=["legal_compliance"],
        source=Source.PROVIDED,
        retention=Retention(after="published_at", period=timedelta(days=1)),
        fields={"text": PersonalField(Category.COMMUNICATION)},
        non_personal=[],
    )
    assert "needs a foreign key 'subject' to DataSubject" in problems_of(fresh)


def test_it_fails_start_up_when_a_declaration_is_bad(monkeypatch):
    fresh = Registry()
    declare_inquiry(fresh, purposes=["reselling"])
    monkeypatch.setattr(registry_module, "registry", fresh)
    with pytest.raises(ImproperlyConfigured, match="unknown purpose 'reselling'"):
        apps.get_app_config("privacy").ready()


def test_it_fills_field_defaults_from_the_model_declaration():
    spec = registry.field(Inquiry, "email_index")
    assert spec.source is Source.DERIVED
    assert spec.portable is False
    assert registry.field(Inquiry, "message").purposes == (
        "customer_support",
        "data_subject_rights",
    )
    assert registry.field(Inquiry, "message").retention.describe() == (
        "730 days after the ticket was closed, then deleted"
    )


# The conformance test: every model linked to DataSubject has each field declared
# or explicitly marked non-personal.
def test_every_field_of_every_model_linked_to_a_subject_is_declared():
    assert registry.conformance_problems() == []


def test_conformance_catches_an_undeclared_field(monkeypatch):
    fresh = Registry()
    declare_inquiry(
        fresh,
        non_personal=[
            *("id", "subject", "kind", "created_at", "updated_at"),
            *("queue", "assigned_to", "assigned_at", "closed_at", "sent_signed_in"),
        ],
    )
    fresh.declare(
        SubjectIdentifier,
        purposes=["service_delivery"],
        source=Source.DERIVED,
        retention=RETENTION,
        fields={"value_index": PersonalField(Category.IDENTIFIER)},
        non_personal=["id", "subject", "kind", "created_at", "updated_at"],
    )
    about_inquiry = [p for p in fresh.conformance_problems() if p.startswith("contact.Inquiry")]
    assert about_inquiry == ["contact.Inquiry.status is neither declared nor marked non-personal"]


def test_conformance_catches_an_undeclared_model():
    fresh = Registry()
    declare_inquiry(fresh)
    assert "privacy.SubjectIdentifier links to DataSubject but is not declared" in (
        fresh.conformance_problems()
    )


def test_it_refuses_to_anonymise_an_encrypted_or_blind_indexed_field():
    fresh = Registry()
    declare_inquiry(
        fresh,
        fields={
            "message": PersonalField(
                Category.COMMUNICATION, encrypted=True, erasure=Erasure.ANONYMISE
            ),
            "email_index": PersonalField(
                Category.IDENTIFIER, blind_index=True, secret=True, erasure=Erasure.ANONYMISE
            ),
        },
    )
    problems = problems_of(fresh)
    assert "Inquiry.message: erasure cannot anonymise an encrypted or blind-indexed" in problems
    assert "Inquiry.email_index: erasure cannot anonymise" in problems


def test_it_refuses_anonymising_to_nothing_on_a_required_field():
    fresh = Registry()
    fresh.declare(
        SubjectIdentifier,
        purposes=["service_delivery"],
        source=Source.DERIVED,
        retention=RETENTION,
        fields={"value_index": PersonalField(Category.IDENTIFIER, erasure=Erasure.ANONYMISE)},
        non_personal=["id", "subject", "kind", "created_at", "updated_at"],
    )
    assert "anonymising to None needs a nullable field" in problems_of(fresh)


def test_a_subject_can_be_reached_through_a_relation_path():
    from qualipact.accounts.models import AccountSession

    fresh = Registry()
    fresh.declare(
        AccountSession,
        purposes=["security"],
        source=Source.AUTOMATIC,
        retention=RETENTION,
        fields={"device_hash": PersonalField(Category.IDENTIFIER)},
        non_personal=[],
        subject_field="subject__account__subject",
    )
    fresh.validate()
    fresh = Registry()
    fresh.declare(
        AccountSession,
        purposes=["security"],
        source=Source.AUTOMATIC,
        retention=RETENTION,
        fields={"device_hash": PersonalField(Category.IDENTIFIER)},
        non_personal=[],
        subject_field="subject__nowhere",
    )
    assert "needs a foreign key 'subject__nowhere' to DataSubject" in problems_of(fresh)


def test_a_table_without_a_subject_is_left_out_of_access_and_erasure_and_cannot_encrypt():
    from axes.models import AccessAttempt

    unlinked = [d.label for d in registry.declarations() if d.subject_field is None]
    assert "axes.AccessAttempt" in unlinked
    assert "axes.AccessAttempt" not in {d.label for d in registry.subject_declarations()}

    fresh = Registry()
    fresh.declare(
        AccessAttempt,
        purposes=["security"],
        source=Source.AUTOMATIC,
        retention=Retention(after="attempt_time", period=timedelta(days=30)),
        fields={"username": PersonalField(Category.IDENTIFIER, blind_index=True)},
        non_personal=[],
        subject_field=None,
    )
    assert "a table without a subject cannot use the vault" in problems_of(fresh)


def test_fields_are_not_for_children_unless_declared_so():
    fresh = Registry()
    declare_inquiry(
        fresh, fields={"name": PersonalField(Category.IDENTITY, encrypted=True, for_children=True)}
    )
    fields = fresh.get(Inquiry).fields
    assert fields["name"].for_children
    assert not fields["message"].for_children
    fresh = Registry()
    declare_inquiry(fresh, for_children=True)
    assert all(spec.for_children for spec in fresh.get(Inquiry).fields.values())


def test_it_refuses_a_blind_index_not_declared_secret():
    fresh = Registry()
    declare_inquiry(
        fresh, fields={"email_index": PersonalField(Category.IDENTIFIER, blind_index=True)}
    )
    assert "Inquiry.email_index: a blind index is a secret; declare secret=True" in problems_of(
        fresh
    )

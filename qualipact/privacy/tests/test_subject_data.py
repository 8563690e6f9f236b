from datetime import timedelta

import pytest
from django.db import transaction

from conftest import PERSONAS
from qualipact.contact.models import Inquiry
from qualipact.privacy import erasure, services, vault
from qualipact.privacy.audit import Actor, EventCode, audit_verify
from qualipact.privacy.errors import SubjectShredded
from qualipact.privacy.models import AuditEvent, SubjectIdentifier, SubjectKey
from qualipact.privacy.registry import (
    Category,
    Erasure,
    PersonalField,
    Registry,
    Retention,
    Source,
    registry,
)
from qualipact.privacy.selectors import subject_collect

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
SYSTEM = Actor.system("test")


@pytest.fixture
def erase(django_capture_on_commit_callbacks):
    """Erase as a caller outside any transaction would: the shred runs on commit."""

    def run(subject):
        with django_capture_on_commit_callbacks(execute=True):
            return services.subject_erase(subject=subject, actor=SYSTEM)

    return run


def fields_by_model(data) -> dict:
    found: dict = {}
    for record in data.as_dict()["records"]:
        found.setdefault(record["model"], []).append({f["field"]: f for f in record["fields"]})
    return found


def test_it_collects_every_declared_field_with_what_the_registry_says(alice_inquiry):
    collected = subject_collect(alice_inquiry.subject)
    data = fields_by_model(collected)
    (inquiry,) = data["contact.Inquiry"]
    alice = PERSONAS["alice"]
    for name in ("name", "email", "phone", "postal_address", "subject_line", "message"):
        assert inquiry[name]["value"] == alice[name]
    assert inquiry["message"] == {
        "field": "message",
        "value": alice["message"],
        "category": "communication",
        "purposes": ["customer_support", "data_subject_rights"],
        "legal_basis": "contract",
        "source": "provided",
        "retention": "730 days after the ticket was closed, then deleted",
        "portable": True,
    }
    assert inquiry["email_index"]["source"] == "derived"
    # A blind index is a secret: listed as stored, its value never read out.
    (identifier,) = data["privacy.SubjectIdentifier"]
    assert identifier["value_index"]["value"] is None
    assert "never shown" in identifier["value_index"]["withheld"]
    assert vault.blind_index("email", alice["email"]) not in repr(collected.as_dict())


def test_it_collects_only_the_persons_own_rows(alice_inquiry, bob_inquiry):
    data = subject_collect(alice_inquiry.subject)
    assert {r.pk for r in data.records if r.model == "contact.Inquiry"} == {str(alice_inquiry.pk)}
    assert PERSONAS["bob"]["email"] not in repr(data.as_dict())


def test_it_reuses_the_subject_for_the_same_email(alice_inquiry):
    from conftest import submit_persona

    again = submit_persona("alice", kind="complaint")
    assert again.subject_id == alice_inquiry.subject_id
    assert len(fields_by_model(subject_collect(alice_inquiry.subject))["contact.Inquiry"]) == 2


def test_it_audits_a_collection_made_for_someone(alice_inquiry):
    subject_collect(alice_inquiry.subject, actor=Actor.staff(7))
    event = AuditEvent.objects.get(code=EventCode.SUBJECT_DATA_COLLECTED)
    assert (event.actor_kind, event.actor_id) == ("staff", "7")


def test_it_erases_every_declared_row_and_shreds_the_key(alice_inquiry, bob_inquiry, erase):
    loaded = Inquiry.objects.get(pk=alice_inquiry.pk)
    receipt = erase(alice_inquiry.subject)
    assert receipt.models["contact.Inquiry"] == {"action": "delete_row", "rows": 1}
    assert receipt.models["privacy.SubjectIdentifier"] == {"action": "delete_row", "rows": 1}
    assert receipt.key_destroyed
    assert not Inquiry.objects.filter(subject=alice_inquiry.subject).exists()
    assert not SubjectKey.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()
    with pytest.raises(SubjectShredded):
        _ = loaded.message
    # Bob is untouched.
    assert Inquiry.objects.get(pk=bob_inquiry.pk).message == PERSONAS["bob"]["message"]
    alice = alice_inquiry.subject
    alice.refresh_from_db()
    assert alice.erased_at is not None
    assert audit_verify().ok


def test_it_erases_idempotently(alice_inquiry, erase):
    erase(alice_inquiry.subject)
    again = erase(alice_inquiry.subject)
    assert again.rows_affected == 0
    assert again.key_destroyed is False
    assert subject_collect(alice_inquiry.subject).records == []


def test_a_rerun_completes_an_erasure_interrupted_before_the_shred(
    alice_inquiry, monkeypatch, erase
):
    def crash(subject_id):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(vault, "key_destroy", crash)
    with pytest.raises(RuntimeError):
        erase(alice_inquiry.subject)
    assert SubjectKey.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()
    monkeypatch.undo()
    receipt = erase(alice_inquiry.subject)
    assert receipt.key_destroyed
    assert not SubjectKey.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()


def test_it_applies_null_and_anonymise_actions(alice_inquiry, monkeypatch, erase):
    fresh = Registry()
    retention = Retention(after="created_at", period=timedelta(days=30))
    fresh.declare(
        Inquiry,
        purposes=["customer_support"],
        source=Source.PROVIDED,
        retention=retention,
        erasure=Erasure.NULL,
        fields={
            "phone": PersonalField(Category.CONTACT, encrypted=True),
            "postal_address": PersonalField(Category.CONTACT, encrypted=True),
            "email_index": PersonalField(Category.IDENTIFIER, blind_index=True, secret=True),
        },
        non_personal=["id", "subject", "kind", "status", "created_at", "updated_at"],
    )
    fresh.declare(
        SubjectIdentifier,
        purposes=["service_delivery"],
        source=Source.DERIVED,
        retention=retention,
        fields={
            "value_index": PersonalField(
                Category.IDENTIFIER,
                erasure=Erasure.ANONYMISE,
                anonymise_to=lambda value: "anonymised-" + value[:4],
            )
        },
        non_personal=["id", "subject", "kind", "created_at", "updated_at"],
    )
    monkeypatch.setattr(erasure, "registry", fresh)
    receipt = erase(alice_inquiry.subject)
    assert receipt.models["contact.Inquiry"]["action"] == "update"
    row = Inquiry.objects.values("phone", "postal_address", "email_index").get()
    assert row == {"phone": None, "postal_address": None, "email_index": None}
    identifier = SubjectIdentifier.objects.get(subject=alice_inquiry.subject)
    assert identifier.value_index.startswith("anonymised-")


def test_it_keeps_the_key_when_the_callers_transaction_rolls_back(alice_inquiry):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.subject_erase(subject=alice_inquiry.subject, actor=SYSTEM)
        raise Abort
    # Rows and key are both still there: the shred never ran for an erasure undone.
    assert SubjectKey.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()
    assert Inquiry.objects.get(pk=alice_inquiry.pk).message == PERSONAS["alice"]["message"]


def test_a_person_writing_again_after_erasure_becomes_a_new_subject(alice_inquiry, erase):
    from conftest import submit_persona

    erase(alice_inquiry.subject)
    again = submit_persona("alice")
    assert again.subject_id != alice_inquiry.subject_id
    assert Inquiry.objects.get().name == PERSONAS["alice"]["name"]


def test_it_collects_with_one_query_per_declared_model_and_one_key_read(
    alice_inquiry, django_assert_num_queries
):
    from conftest import submit_persona

    submit_persona("alice", kind="privacy")  # a second inquiry costs no extra query
    vault.key_cache_clear()
    declared_models = len(registry.subject_declarations())
    with django_assert_num_queries(1, using="keys"), django_assert_num_queries(declared_models):
        data = subject_collect(alice_inquiry.subject)
    assert len(data.records) == 3

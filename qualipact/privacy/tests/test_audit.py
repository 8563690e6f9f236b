import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from conftest import PERSONAS
from qualipact.contact.events import ContactCode
from qualipact.privacy.audit import Actor, EventCode, audit_log, audit_verify
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def run_verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def raw(sql: str, params: list) -> None:
    # An attacker with database access bypasses the model's append-only guard.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_reports_ok_with_the_number_of_events(alice_inquiry, bob_inquiry):
    count = AuditEvent.objects.count()
    assert count >= 4  # two subjects created, two inquiries submitted
    assert run_verify() == f"ok {count} events"


def test_it_writes_the_event_in_the_same_transaction_as_the_change(alice_inquiry):
    event = AuditEvent.objects.get(code=ContactCode.INQUIRY_SUBMITTED)
    assert event.subject_id == alice_inquiry.subject_id
    assert event.data == {
        "inquiry_id": str(alice_inquiry.pk),
        "kind": "general",
        "signed_in": False,
    }
    assert event.purpose == "customer_support"


def test_it_detects_a_tampered_row(alice_inquiry, bob_inquiry):
    event = AuditEvent.objects.get(
        code=ContactCode.INQUIRY_SUBMITTED, subject_id=alice_inquiry.subject_id
    )
    raw("UPDATE privacy_auditevent SET purpose = %s WHERE id = %s", ["marketing", event.id])
    with pytest.raises(CommandError, match=f"broken at event {event.id}: content does not match"):
        run_verify()


def test_it_detects_a_deleted_row(alice_inquiry, bob_inquiry):
    raw("DELETE FROM privacy_auditevent WHERE id = %s", [2])
    with pytest.raises(CommandError, match="broken at event 2: event is missing"):
        run_verify()


def test_it_detects_a_row_whose_hash_was_recomputed_without_the_key(alice_inquiry, bob_inquiry):
    # Rewriting a row and its own hash still breaks the next link.
    raw("UPDATE privacy_auditevent SET hash = %s WHERE id = %s", ["f" * 64, 1])
    with pytest.raises(CommandError, match="broken at event 1"):
        run_verify()


def test_it_detects_removed_tail_events(alice_inquiry, bob_inquiry):
    last = AuditEvent.objects.order_by("-id").first()
    raw("DELETE FROM privacy_auditevent WHERE id = %s", [last.id])
    assert not audit_verify().ok
    assert "removed" in audit_verify().reason


def test_it_refuses_to_update_or_delete_through_the_model(alice_inquiry):
    event = AuditEvent.objects.first()
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.parametrize(
    "data",
    [{"email": "alice@example.org"}, {"note": "Alice Marchetti"}, {"nested": ["a b"]}],
)
def test_it_refuses_free_text_in_event_data(data):
    with pytest.raises(ValueError, match="ids, codes or field names only"):
        audit_log(code=EventCode.SUBJECT_CREATED, actor=Actor.system(), data=data)


def test_it_keeps_every_plaintext_out_of_audit_rows(alice_inquiry, bob_inquiry):
    rows = list(
        AuditEvent.objects.values_list(
            "actor_id", "purpose", "data", "subject_id", "prev_hash", "hash"
        )
    )
    dumped = repr(rows).casefold()
    for persona in PERSONAS.values():
        # Every full value, and each part of the name and email on its own.
        needles = [v for v in persona.values() if v]
        needles += persona["name"].split() + persona["email"].replace("@", ".").split(".")[:2]
        for needle in needles:
            assert needle.casefold() not in dumped, needle

"""Each kind of message goes to its queue when it arrives, and existing messages were
routed the same way by the data migration."""

import importlib

import pytest
from django.apps import apps

from conftest import submit_persona
from qualipact.contact.events import ContactCode
from qualipact.contact.models import Inquiry
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.mark.parametrize(
    ("kind", "queue", "purpose"),
    [
        ("general", "support", "customer_support"),
        ("privacy", "dpo", "data_subject_rights"),
        ("complaint", "dpo", "data_subject_rights"),
    ],
)
def test_it_puts_each_kind_in_its_queue_on_arrival(kind, queue, purpose):
    inquiry = submit_persona("alice", kind=kind)
    assert Inquiry.objects.get(pk=inquiry.pk).queue == queue
    assert inquiry.assigned_to is None and inquiry.assigned_at is None
    event = AuditEvent.objects.get(code=ContactCode.INQUIRY_SUBMITTED)
    assert event.purpose == purpose


def test_it_routes_the_messages_stored_before_queues_existed():
    for kind in Inquiry.Kind.values:
        submit_persona("alice", kind=kind)
    # As they were before the migration: every row in the column's default queue.
    Inquiry.objects.update(queue=Inquiry.Queue.SUPPORT)
    migration = importlib.import_module("qualipact.contact.migrations.0003_inquiry_queue_by_kind")
    migration.route_to_dpo(apps, None)
    assert dict(Inquiry.objects.values_list("kind", "queue")) == {
        "general": "support",
        "privacy": "dpo",
        "complaint": "dpo",
    }

"""Offers data under the retention engine: its declared periods enforced, and the data
of people who withdrew consent deleted (offers/privacy.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qualipact.offers import services
from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.offers.tests.conftest import IP_GB, grant, withdraw
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.services import subject_restrict
from qualipact.retention import tasks
from qualipact.retention.engine import retention_sweep
from qualipact.retention.events import RetentionCode

OFFERS = ("offers.TopicPreference", "offers.BrowsingEvent", "offers.LocationFix")


def sweep(**kwargs) -> dict[str, int]:
    """Rows deleted per offers model."""
    done: dict[str, int] = {}
    for label in OFFERS:
        for result in retention_sweep(model=label, **kwargs):
            done[label] = done.get(label, 0) + result.done
    return done


pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def give_everything(subject, catalogue):
    actor = Actor.subject(subject.pk)
    grant(subject, "personalised_offers")
    grant(subject, "location_features")
    services.topic_preferences_set(subject=subject, topics=["privacy"], actor=actor)
    services.offer_view_record(subject=subject, offer=catalogue["privacy-guide"], actor=actor)
    services.location_record_from_ip(subject=subject, address=IP_GB, actor=actor)
    services.location_record_from_browser(
        subject=subject, latitude="51.45", longitude="-2.59", actor=actor
    )


def rows(subject) -> tuple[int, int, int]:
    return (
        TopicPreference.objects.filter(subject=subject).count(),
        BrowsingEvent.objects.filter(subject=subject).count(),
        LocationFix.objects.filter(subject=subject).count(),
    )


def test_it_deletes_what_has_passed_its_retention_and_keeps_the_rest(alice, catalogue):
    give_everything(alice, catalogue)
    now = timezone.now()
    assert not any(sweep(now=now + timedelta(days=29)).values())
    assert rows(alice) == (1, 1, 2)

    counts = sweep(now=now + timedelta(days=31))
    assert counts["offers.LocationFix"] == 2
    assert rows(alice) == (1, 1, 0)
    sweep(now=now + timedelta(days=91))
    assert rows(alice) == (1, 0, 0)
    sweep(now=now + timedelta(days=731))
    assert rows(alice) == (0, 0, 0)


def test_it_deletes_the_data_of_people_who_withdrew_consent(alice, bob, catalogue):
    give_everything(alice, catalogue)
    give_everything(bob, catalogue)
    withdraw(alice, "personalised_offers")
    counts = sweep()
    assert counts["offers.TopicPreference"] == 1
    assert counts["offers.BrowsingEvent"] == 1
    assert rows(alice) == (0, 0, 2)  # location consent still stands
    withdraw(alice, "location_features")
    sweep()
    assert rows(alice) == (0, 0, 0)
    assert rows(bob) == (1, 1, 2)


def test_it_keeps_the_data_of_a_restricted_person(alice, catalogue):
    # Art 18: restricted data is stored and nothing else, so it is not deleted either.
    give_everything(alice, catalogue)
    subject_restrict(subject=alice, actor=Actor.system("test"), reason="contested")
    sweep()
    assert rows(alice) == (1, 1, 2)


def test_it_audits_what_it_deleted_as_counts_and_nothing_when_there_was_nothing(alice, catalogue):
    sweep()
    assert not AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).exists()
    give_everything(alice, catalogue)
    withdraw(alice, "location_features")
    tasks.retention_sweep()
    event = AuditEvent.objects.get(code=RetentionCode.RETENTION_SWEPT)
    assert event.actor_kind == "system" and event.subject_id is None
    assert event.data["model"] == "offers.LocationFix" and event.data["rows"] == 2

"""Every offers feature goes through purpose enforcement.

For each feature: refused without consent, allowed after `consent_grant`, refused again
at once after `consent_withdraw`. Consent to the other offers purpose does not open it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qualipact.offers import services
from qualipact.offers.events import OffersCode
from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.offers.selectors import offers_for
from qualipact.offers.tests.conftest import (
    DEFAULT_ORDER,
    IP_GB,
    RAW_LATITUDE,
    RAW_LONGITUDE,
    grant,
    slugs,
    withdraw,
)
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.services import subject_restrict

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
PERSONALISED = "personalised_offers"
LOCATION = "location_features"
OTHER = {PERSONALISED: LOCATION, LOCATION: PERSONALISED}
PERSONAL_TABLES = ("offers_topicpreference", "offers_browsingevent", "offers_locationfix")


def set_topics(subject, catalogue):
    services.topic_preferences_set(
        subject=subject, topics=["privacy"], actor=Actor.subject(subject.pk)
    )


def view_offer(subject, catalogue):
    services.offer_view_record(
        subject=subject, offer=catalogue["privacy-guide"], actor=Actor.subject(subject.pk)
    )


def country_from_ip(subject, catalogue):
    services.location_record_from_ip(
        subject=subject, address=IP_GB, actor=Actor.subject(subject.pk)
    )


def browser_position(subject, catalogue):
    services.location_record_from_browser(
        subject=subject,
        latitude=RAW_LATITUDE,
        longitude=RAW_LONGITUDE,
        actor=Actor.subject(subject.pk),
    )


WRITES = {
    "topic_preferences": (PERSONALISED, set_topics, TopicPreference),
    "browsing_history": (PERSONALISED, view_offer, BrowsingEvent),
    "ip_country": (LOCATION, country_from_ip, LocationFix),
    "browser_location": (LOCATION, browser_position, LocationFix),
}


def offers_events(subject) -> list[int]:
    return list(
        AuditEvent.objects.filter(subject_id=subject.pk, code__gte=600, code__lt=700)
        .order_by("id")
        .values_list("code", flat=True)
    )


@pytest.mark.parametrize("feature", list(WRITES))
def test_it_refuses_each_write_without_consent_and_again_at_once_after_withdrawal(
    alice, catalogue, feature
):
    purpose, write, model = WRITES[feature]
    grant(alice, OTHER[purpose])  # consent to the other purpose opens nothing here
    with pytest.raises(ProcessingRefused) as refused:
        write(alice, catalogue)
    assert refused.value.extra == {"purpose": purpose, "reasons": ["no_consent"]}
    assert not model.objects.exists()
    assert offers_events(alice) == []

    grant(alice, purpose)
    write(alice, catalogue)
    assert model.objects.filter(subject=alice).count() == 1
    assert len(offers_events(alice)) == 1

    withdraw(alice, purpose)
    with pytest.raises(ProcessingRefused):
        write(alice, catalogue)
    assert model.objects.filter(subject=alice).count() == 1  # nothing new
    assert len(offers_events(alice)) == 1


@pytest.mark.parametrize("feature", list(WRITES))
def test_restriction_refuses_each_write_even_with_consent(alice, catalogue, feature):
    purpose, write, model = WRITES[feature]
    grant(alice, purpose)
    subject_restrict(subject=alice, actor=Actor.system("test"), reason="contested")
    with pytest.raises(ProcessingRefused) as refused:
        write(alice, catalogue)
    assert refused.value.extra["reasons"] == ["restricted"]
    assert not model.objects.exists()


def test_recommendations_need_consent_and_stop_at_once_after_withdrawal(alice, catalogue):
    grant(alice, PERSONALISED)
    set_topics(alice, catalogue)
    assert offers_for(alice).personalised
    assert slugs(offers_for(alice))[:2] == ["bristol-meetup", "privacy-guide"]

    withdraw(alice, PERSONALISED)
    # Her interests are still stored (the sweep deletes them later), but not read.
    assert TopicPreference.objects.filter(subject=alice).exists()
    with CaptureQueriesContext(connection) as queries:
        result = offers_for(alice)
    assert not result.personalised
    assert slugs(result) == DEFAULT_ORDER
    assert not [q for q in queries if any(t in q["sql"] for t in PERSONAL_TABLES)]


def test_the_location_based_list_needs_consent_and_stops_at_once_after_withdrawal(alice, catalogue):
    grant(alice, LOCATION)
    country_from_ip(alice, catalogue)
    located = offers_for(alice)
    assert located.located and located.country == "GB"
    assert "berlin-day" not in slugs(located)

    withdraw(alice, LOCATION)
    with CaptureQueriesContext(connection) as queries:
        result = offers_for(alice)
    assert not result.located and result.country == ""
    assert slugs(result) == DEFAULT_ORDER
    assert not [q for q in queries if any(t in q["sql"] for t in PERSONAL_TABLES)]


def test_every_allowed_write_is_audited_with_its_purpose_and_no_values(alice, catalogue):
    grant(alice, PERSONALISED)
    grant(alice, LOCATION)
    for _, write, _ in WRITES.values():
        write(alice, catalogue)
    services.location_forget(subject=alice, actor=Actor.subject(alice.pk))
    events = list(AuditEvent.objects.filter(subject_id=alice.pk, code__gte=600).order_by("id"))
    assert [(e.code, e.purpose) for e in events] == [
        (OffersCode.TOPIC_PREFERENCES_SET, PERSONALISED),
        (OffersCode.OFFER_VIEW_RECORDED, PERSONALISED),
        (OffersCode.LOCATION_RECORDED, LOCATION),
        (OffersCode.LOCATION_RECORDED, LOCATION),
        (OffersCode.LOCATION_FORGOTTEN, LOCATION),
    ]
    assert all(e.actor_kind == "subject" and e.actor_id == str(alice.pk) for e in events)
    flat = " ".join(str(e.data) for e in events)
    for value in ("privacy", "privacy-guide", "GB", "51.45", "-2.59", IP_GB):
        assert value not in flat


@pytest.mark.parametrize("feature", list(WRITES))
def test_it_attaches_nothing_to_a_person_erased_since_they_were_loaded(alice, catalogue, feature):
    purpose, write, model = WRITES[feature]
    grant(alice, purpose)
    # The page loaded Alice; her erasure committed before the write locked her row.
    DataSubject.objects.filter(pk=alice.pk).update(erased_at=timezone.now())
    with pytest.raises(ProcessingRefused) as refused:
        write(alice, catalogue)
    assert "erased" in refused.value.extra["reasons"]
    assert not model.objects.exists()

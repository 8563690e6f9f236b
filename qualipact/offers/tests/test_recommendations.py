"""What list a person sees: the same for everyone without consent, ranked with it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qualipact.offers import services
from qualipact.offers.models import BrowsingEvent, LocationFix
from qualipact.offers.selectors import offers_for
from qualipact.offers.tests.conftest import DEFAULT_ORDER, IP_GB, grant, slugs, withdraw
from qualipact.privacy.audit import Actor

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
PERSONALISED = "personalised_offers"
LOCATION = "location_features"


def state_topics(subject, *topics):
    services.topic_preferences_set(subject=subject, topics=topics, actor=Actor.subject(subject.pk))


def view(subject, offer, times=1):
    for _ in range(times):
        services.offer_view_record(subject=subject, offer=offer, actor=Actor.subject(subject.pk))


def test_the_default_list_is_identical_for_two_people_without_consent(alice, bob, catalogue):
    # Alice once consented and left interests and history behind; Bob never did.
    grant(alice, PERSONALISED)
    state_topics(alice, "security")
    view(alice, catalogue["security-tips"], times=3)
    withdraw(alice, PERSONALISED)

    for_alice, for_bob, for_nobody = offers_for(alice), offers_for(bob), offers_for(None)
    assert slugs(for_alice) == slugs(for_bob) == slugs(for_nobody) == DEFAULT_ORDER
    assert for_alice == for_bob == for_nobody
    assert not any(item.reasons for item in for_alice.items)


def test_stated_topics_come_first(alice, catalogue):
    grant(alice, PERSONALISED)
    state_topics(alice, "security")
    result = offers_for(alice)
    assert result.personalised and not result.located
    assert slugs(result)[:2] == ["us-promo", "security-tips"]
    # Region filtering needs location consent: offers for other countries stay listed.
    assert set(slugs(result)) == set(DEFAULT_ORDER)
    assert result.items[0].reasons == ["it matches your interest in Security"]


def test_browsing_history_ranks_similar_offers_higher(alice, catalogue):
    grant(alice, PERSONALISED)
    view(alice, catalogue["berlin-day"], times=2)
    result = offers_for(alice)
    # Both events share the topic "events"; nothing else was looked at.
    assert slugs(result)[:2] == ["berlin-day", "bristol-meetup"]
    assert result.items[1].reasons == ["you looked at similar offers"]


def test_a_stated_interest_outweighs_a_single_view(alice, catalogue):
    grant(alice, PERSONALISED)
    state_topics(alice, "privacy")
    view(alice, catalogue["security-tips"])
    assert slugs(offers_for(alice))[:3] == ["bristol-meetup", "privacy-guide", "us-promo"]


def test_history_older_than_its_retention_is_not_used(alice, catalogue):
    grant(alice, PERSONALISED)
    view(alice, catalogue["security-tips"], times=2)
    BrowsingEvent.objects.update(viewed_at=timezone.now() - timedelta(days=91))
    assert slugs(offers_for(alice)) == DEFAULT_ORDER


def test_with_location_consent_only_offers_for_the_country_are_listed_local_first(alice, catalogue):
    grant(alice, LOCATION)
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    result = offers_for(alice)
    assert result.located and not result.personalised and result.country == "GB"
    assert slugs(result) == ["bristol-meetup", "spring-sale", "security-tips", "privacy-guide"]
    assert result.items[0].reasons == ["it is offered in your country"]


def test_a_shared_position_puts_events_nearby_first(alice, catalogue):
    grant(alice, LOCATION)
    services.location_record_from_browser(
        subject=alice, latitude="51.4600", longitude="-2.6100", actor=Actor.subject(alice.pk)
    )
    result = offers_for(alice)
    assert result.country == ""  # a position gives no country: no region filter
    assert slugs(result)[0] == "bristol-meetup"
    assert result.items[0].distance_km == 1
    berlin = next(item for item in result.items if item.offer.slug == "berlin-day")
    assert berlin.distance_km is None  # far away: not "near you"


def test_a_location_past_its_retention_is_not_used(alice, catalogue):
    grant(alice, LOCATION)
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    LocationFix.objects.update(recorded_at=timezone.now() - timedelta(days=31))
    result = offers_for(alice)
    assert result.located and result.country == ""
    assert slugs(result) == DEFAULT_ORDER


def test_a_country_from_this_request_is_used_only_with_location_consent(alice, bob, catalogue):
    # Nobody can consent anonymously, so an anonymous visitor never gets a local list.
    assert slugs(offers_for(None, country="US")) == DEFAULT_ORDER
    assert slugs(offers_for(bob, country="US")) == DEFAULT_ORDER
    grant(alice, LOCATION)
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    result = offers_for(alice, country="us")
    assert result.country == "US"
    assert slugs(result)[0] == "us-promo"
    assert "bristol-meetup" not in slugs(result)
    with pytest.raises(ValueError, match="ISO 3166"):
        offers_for(alice, country="USA")


def test_both_consents_combine_interests_and_country(alice, catalogue):
    grant(alice, PERSONALISED)
    grant(alice, LOCATION)
    state_topics(alice, "security")
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    result = offers_for(alice)
    assert result.personalised and result.located
    assert slugs(result)[:2] == ["security-tips", "bristol-meetup"]
    assert "us-promo" not in slugs(result)


def test_it_honours_the_limit(alice, catalogue):
    grant(alice, PERSONALISED)
    assert len(offers_for(None, limit=2).items) == 2
    assert len(offers_for(alice, limit=3).items) == 3


def queries_for(subject) -> int:
    with CaptureQueriesContext(connection) as queries:
        offers_for(subject)
    return len(queries)


def test_it_reads_the_same_few_queries_however_large_the_catalogue(alice, catalogue):
    grant(alice, PERSONALISED)
    grant(alice, LOCATION)
    state_topics(alice, "security")
    view(alice, catalogue["security-tips"])
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    small = (queries_for(None), queries_for(alice))
    for n in range(30):
        services.offer_create(
            slug=f"extra-{n}", title="Extra", kind="article", summary="s", topics=["security"]
        )
    assert (queries_for(None), queries_for(alice)) == small
    assert small[0] == 2  # the offers and their topics

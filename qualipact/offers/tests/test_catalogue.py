"""The catalogue: offers, topics, regions, what is listed, and the demo command."""

import pytest
from django.core.management import call_command

from qualipact.offers.models import Offer, Topic
from qualipact.offers.selectors import offer_get, offers_for, offers_listed
from qualipact.offers.services import offer_create
from qualipact.offers.tests.conftest import DEFAULT_ORDER, slugs
from qualipact.privacy.errors import ApplicationError

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_it_lists_published_offers_that_are_not_over_newest_first(catalogue):
    assert [o.slug for o in offers_listed()] == DEFAULT_ORDER
    assert offer_get("draft") is None
    assert offer_get("last-year") is None
    # An offer is listed up to and including its last day.
    assert offer_get("spring-sale") is not None


def test_it_stores_regions_as_sorted_upper_case_codes(db):
    offer = offer_create(
        slug="x", title="X", kind="promotion", summary="s", regions=[" ie", "GB", "gb"]
    )
    assert offer.regions == "GB,IE"
    assert offer.region_codes == ["GB", "IE"]
    assert offer.available_in("IE") and not offer.available_in("FR")
    everywhere = offer_create(slug="y", title="Y", kind="article", summary="s")
    assert everywhere.regions == "" and everywhere.available_in("FR")


@pytest.mark.parametrize(
    "bad",
    [
        {"regions": ["GBR"]},
        {"regions": ["G1"]},
        {"kind": "advert"},
        {"starts_on": "2026-05-02", "ends_on": "2026-05-01"},
        {"venue_latitude": "51.45"},
        {"venue_latitude": "91", "venue_longitude": "0"},
        {"slug": "not a slug"},
    ],
)
def test_it_refuses_an_invalid_offer_and_stores_nothing(db, bad):
    spec = {"slug": "ok", "title": "T", "kind": "article", "summary": "s", **bad}
    with pytest.raises(ApplicationError, match="The offer is not valid"):
        offer_create(**spec)
    assert not Offer.objects.exists()


def test_it_creates_topics_it_has_not_seen(db):
    offer = offer_create(
        slug="a", title="A", kind="article", summary="s", topics=["data-protection"]
    )
    assert [t.name for t in offer.topics.all()] == ["Data protection"]


def test_the_demo_command_adds_a_realistic_catalogue_once(db):
    call_command("offers_demo_catalogue")
    offers = Offer.objects.filter(published=True)
    assert offers.count() == 8
    assert {o.kind for o in offers} == {"article", "event", "promotion"}
    assert offers.exclude(regions="").exists() and offers.filter(regions="").exists()
    assert offers.filter(venue_latitude__isnull=False).count() == 3
    assert Topic.objects.count() == 6
    assert len(slugs(offers_for(None))) == 8

    call_command("offers_demo_catalogue")
    call_command("offers_demo_catalogue", if_empty=True)
    assert Offer.objects.count() == 8

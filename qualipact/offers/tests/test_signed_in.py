"""The offers page of a signed-in person, reached from the site's navigation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import account_for
from qualipact.consent.models import ConsentEvent
from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.offers.services import offer_create
from qualipact.offers.tests.conftest import IP_GB
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.errors import ApplicationError

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
PAGE = "/offers/for-you/"


@pytest.fixture
def alice_client(client, alice_account):
    client.force_login(alice_account)
    return client


def test_it_sends_anonymous_visitors_to_sign_in_and_back(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/offers/for-you/"
    assert response.cookies == {}
    listing = client.get("/offers/").text
    assert "data-offers-how" in listing and "/accounts/login/?next=/offers/for-you/" in listing


def test_it_links_a_signed_in_person_to_their_offers_from_every_page(alice_client):
    for path in ("/", "/offers/", "/accounts/"):
        assert 'href="/offers/for-you/"' in alice_client.get(path).text, path


def test_it_takes_consent_interests_and_location_from_a_signed_in_person(
    alice_client, alice_account, catalogue
):
    subject = alice_account.subject
    page = alice_client.get(PAGE)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert page.text.count('value="grant"') == 2
    for purpose in ("personalised_offers", "location_features"):
        response = alice_client.post(PAGE, {"action": "grant", "purpose": purpose})
        assert response.status_code == 302
        assert may_process(subject, purpose)
    alice_client.post(PAGE, {"action": "topics", "topics": ["security"]})
    assert list(TopicPreference.objects.values_list("topic__slug", flat=True)) == ["security"]
    alice_client.post(PAGE, {"action": "location_ip"}, REMOTE_ADDR=IP_GB)
    stored = alice_client.post(PAGE + "location/", {"latitude": "51.4545", "longitude": "-2.5879"})
    assert stored.json() == {"stored": {"position": "51.45,-2.59", "precision_km": 1}}
    assert LocationFix.objects.filter(subject=subject).count() == 2
    alice_client.get(PAGE + "offer/privacy-guide/")
    assert BrowsingEvent.objects.filter(subject=subject).count() == 1
    shown = alice_client.get(PAGE)
    assert "Your country: GB" in shown.text
    assert 'href="/offers/for-you/offer/privacy-guide/"' in shown.text
    assert shown["Permissions-Policy"].endswith("geolocation=(self)")


def test_it_offers_a_childs_account_nothing_to_turn_on(client, catalogue):
    child = account_for("bob", child_until=timezone.localdate() + timedelta(days=300))
    client.force_login(child)
    page = client.get(PAGE)
    assert "data-child" in page.text and 'value="grant"' not in page.text
    response = client.post(PAGE, {"action": "grant", "purpose": "personalised_offers"})
    assert response.status_code == 403
    assert not ConsentEvent.objects.filter(subject=child.subject).exists()
    assert not may_process(child.subject, "personalised_offers")


@pytest.mark.parametrize("slug", ["for-you", "for"])
def test_it_keeps_the_pages_addresses_free_of_offers(slug):
    with pytest.raises(ApplicationError):
        offer_create(slug=slug, title="X", kind="article", summary="Y")

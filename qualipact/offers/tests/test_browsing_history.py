"""Browsing history: a known person's views of offers, recorded only with consent."""

import pytest
from django.utils import timezone

from qualipact.offers.events import OffersCode
from qualipact.offers.models import BrowsingEvent
from qualipact.offers.services import offer_view_record
from qualipact.offers.tests.conftest import grant, withdraw
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_it_records_each_view_with_its_time_and_audits_only_the_event_id(alice, catalogue):
    grant(alice, "personalised_offers")
    before = timezone.now()
    event = offer_view_record(
        subject=alice, offer=catalogue["privacy-guide"], actor=Actor.subject(alice.pk)
    )
    assert event.viewed_at >= before
    audit = AuditEvent.objects.get(code=OffersCode.OFFER_VIEW_RECORDED)
    assert audit.data == {"event_id": str(event.pk)}


def test_it_refuses_to_record_a_view_of_an_unpublished_offer(alice, catalogue):
    grant(alice, "personalised_offers")
    with pytest.raises(ApplicationError, match="not published"):
        offer_view_record(subject=alice, offer=catalogue["draft"], actor=Actor.subject(alice.pk))
    assert not BrowsingEvent.objects.exists()


def offer_page(token, slug="privacy-guide"):
    return f"/offers/for/{token}/offer/{slug}/"


def test_the_page_of_an_offer_remembers_the_view_only_while_consent_stands(
    client, alice, alice_link, catalogue
):
    assert client.get(offer_page(alice_link)).status_code == 200
    assert not BrowsingEvent.objects.exists()

    grant(alice, "personalised_offers")
    response = client.get(offer_page(alice_link))
    assert response.status_code == 200 and response.cookies == {}
    assert "no-store" in response["Cache-Control"]
    assert BrowsingEvent.objects.filter(subject=alice).count() == 1
    client.head(offer_page(alice_link))  # a HEAD is not a view
    assert BrowsingEvent.objects.count() == 1

    withdraw(alice, "personalised_offers")
    assert client.get(offer_page(alice_link)).status_code == 200
    assert BrowsingEvent.objects.count() == 1


def test_the_public_page_of_an_offer_never_records_anything(client, alice, catalogue):
    grant(alice, "personalised_offers")
    response = client.get("/offers/privacy-guide/")
    assert response.status_code == 200 and response.cookies == {}
    assert "Privacy Guide" in response.text
    assert not BrowsingEvent.objects.exists()


@pytest.mark.parametrize("slug", ["draft", "last-year", "no-such-offer"])
def test_an_offer_that_is_not_listed_is_a_clear_404_and_is_not_recorded(
    client, alice, alice_link, catalogue, slug
):
    grant(alice, "personalised_offers")
    for path in (f"/offers/{slug}/", offer_page(alice_link, slug)):
        response = client.get(path)
        assert response.status_code == 404
        assert "This offer is not available" in response.text
    assert not BrowsingEvent.objects.exists()

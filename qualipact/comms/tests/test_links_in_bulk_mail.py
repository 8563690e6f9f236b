"""The links in a newsletter: they opt out for as long as the mail can be read, and they
never act for the person beyond that, because a newsletter can be forwarded."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from conftest import PERSONAS
from qualipact.comms import newsletters
from qualipact.comms.models import Newsletter, NewsletterSignup
from qualipact.comms.tests.test_newsletters import (
    SITE,
    deliver_queued,
    link_in,
    subscribe,
    unfolded,
)
from qualipact.consent.models import ConsentEvent, PreferenceToken
from qualipact.consent.selectors import consent_wording_current
from qualipact.offers.models import LocationFix, TopicPreference
from qualipact.offers.services import offer_create
from qualipact.offers.tests.conftest import IP_GB
from qualipact.privacy.enforcement import may_process

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
ALICE = PERSONAS["alice"]["email"]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def newsletter_received(client, smtp):
    """Alice subscribed and received one newsletter; returns its links, by name."""
    subscribe(client, smtp, ALICE)
    smtp.messages.clear()
    newsletters.newsletter_send(
        newsletter=Newsletter.objects.create(subject_line="News", body="What is new.")
    )
    deliver_queued()
    [message] = smtp.messages
    smtp.messages.clear()
    return {
        "unsubscribe": urlsplit(unfolded(message["List-Unsubscribe"])[1:-1]).path,
        "preferences": urlsplit(link_in(message, "/preferences/")).path,
        "offers": urlsplit(link_in(message, "/offers/for/")).path,
        "token": urlsplit(link_in(message, "/preferences/")).path.split("/")[2],
    }


@pytest.fixture
def alice():
    return NewsletterSignup.objects.get().subject


def grant_form(purpose: str) -> dict:
    wording = consent_wording_current(purpose)
    return {"purpose": purpose, "action": "grant", "wording": wording.sha256}


def later(monkeypatch, **delta) -> None:
    """Move every clock the services read forward."""
    moved = timezone.now() + timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)


# -- item 20: a forwarded newsletter cannot consent for the person it was sent to ----------


@pytest.mark.parametrize("purpose", ["partner_sharing", "personalised_ads", "location_features"])
def test_it_refuses_a_grant_through_a_forwarded_newsletters_footer_link(
    newsletter_received, alice, purpose
):
    reader = Client()  # whoever the mail was forwarded to
    response = reader.post(newsletter_received["preferences"], grant_form(purpose))
    assert response.status_code == 400
    assert "not give consent" in response.text
    assert not ConsentEvent.objects.filter(subject=alice, action="grant", purpose=purpose)
    assert not may_process(alice, purpose)
    page = reader.get(newsletter_received["preferences"]).text
    assert 'value="grant"' not in page  # the page does not even offer it
    assert "Email me a fresh link" in page


def test_it_refuses_to_take_back_an_objection_through_the_footer_link(newsletter_received, alice):
    reader = Client()
    path = newsletter_received["preferences"]
    assert reader.post(path, {"purpose": "analytics", "action": "object"}).status_code == 302
    response = reader.post(path, {"purpose": "analytics", "action": "withdraw_objection"})
    assert response.status_code == 400
    assert not may_process(alice, "analytics")


def test_it_refuses_a_grant_on_the_bearer_api_with_a_bulk_mail_link(newsletter_received, alice):
    response = Client().post(
        "/api/preferences",
        json.dumps({"purpose": "partner_sharing", "action": "grant"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {newsletter_received['token']}",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "fresh_link_required"
    assert not may_process(alice, "partner_sharing")
    withdrawn = Client().post(
        "/api/preferences",
        json.dumps({"purpose": "marketing", "action": "withdraw"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {newsletter_received['token']}",
    )
    assert withdrawn.status_code == 200
    assert not may_process(alice, "marketing")


def test_it_shows_and_stores_nothing_about_the_person_on_a_bulk_links_offers_page(
    newsletter_received, alice, monkeypatch
):
    from qualipact.offers.tests.conftest import grant

    grant(alice, "personalised_offers")
    grant(alice, "location_features")
    offer_create(slug="guide", title="A guide", kind="article", summary="About it.")
    reader = Client()
    path = newsletter_received["offers"]
    page = reader.get(path, REMOTE_ADDR=IP_GB)
    assert "data-opt-out-only" in page.text
    assert "Your interests" not in page.text
    assert reader.post(path, {"action": "topics", "topics": ["x"]}).status_code == 403
    assert reader.post(path, {"action": "location_ip"}, REMOTE_ADDR=IP_GB).status_code == 403
    location = reader.post(path + "location/", {"latitude": "51.45", "longitude": "-2.59"})
    assert location.status_code == 403
    assert location.json()["error"]["code"] == "fresh_link_required"
    reader.get(path + "offer/guide/")
    assert not TopicPreference.objects.exists() and not LocationFix.objects.exists()
    from qualipact.offers.models import BrowsingEvent

    assert not BrowsingEvent.objects.exists()
    # Taking things away works.
    reader.post(path, {"action": "withdraw", "purpose": "location_features"})
    assert not may_process(alice, "location_features")


def test_it_sends_a_fresh_link_to_the_newsletters_address_that_grants_once(
    newsletter_received, alice, smtp, monkeypatch
):
    reader = Client()
    sent = reader.post(newsletter_received["preferences"] + "fresh-link/", follow=True)
    assert sent.status_code == 200
    assert "data-fresh-link-sent" in sent.text
    deliver_queued()
    [message] = smtp.messages
    assert message["To"] == ALICE  # never to whoever pressed the button
    fresh = urlsplit(link_in(message, "/preferences/")).path
    assert fresh != newsletter_received["preferences"]

    assert reader.post(fresh, grant_form("partner_sharing")).status_code == 302
    assert may_process(alice, "partner_sharing")
    again = reader.post(fresh, grant_form("personalised_ads"))
    assert again.status_code == 400  # single use
    assert not may_process(alice, "personalised_ads")

    # After its day it still withdraws, as every opt-out must.
    later(monkeypatch, days=400)
    withdrawn = reader.post(fresh, {"purpose": "partner_sharing", "action": "withdraw"})
    assert withdrawn.status_code == 302
    assert not may_process(alice, "partner_sharing")


def test_it_sends_one_fresh_link_per_ten_minutes(newsletter_received, smtp, monkeypatch):
    path = newsletter_received["preferences"] + "fresh-link/"
    for _ in range(3):
        assert Client().post(path, follow=True).status_code == 200
    deliver_queued()
    assert len(smtp.messages) == 1
    later(monkeypatch, minutes=11)
    cache.clear()  # the repeated-submission window (web.submissions) is over too
    Client().post(path)
    assert PreferenceToken.objects.filter(grants_until__isnull=False).count() == 2


# -- item 19: an opt-out link works as long as the mail it came in can be read -------------


@pytest.mark.parametrize("years", [1, 10])
def test_it_keeps_the_one_click_unsubscribe_link_working_years_later(
    newsletter_received, alice, monkeypatch, years
):
    later(monkeypatch, days=365 * years)
    assert Client().get(newsletter_received["unsubscribe"]).status_code == 200
    response = Client().post(
        newsletter_received["unsubscribe"],
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 200
    assert not may_process(alice, "marketing")
    assert newsletters.newsletter_audience() == []


def test_it_keeps_an_old_newsletters_preference_link_withdrawing_and_objecting(
    newsletter_received, alice, monkeypatch
):
    later(monkeypatch, days=3650)
    path = newsletter_received["preferences"]
    assert Client().get(path).status_code == 200
    assert Client().post(path, {"purpose": "marketing", "action": "withdraw"}).status_code == 302
    assert Client().post(path, {"purpose": "analytics", "action": "object"}).status_code == 302
    assert not may_process(alice, "marketing") and not may_process(alice, "analytics")


def test_it_carries_the_same_opt_out_link_in_every_newsletter_to_an_address(
    newsletter_received, smtp
):
    newsletters.newsletter_send(
        newsletter=Newsletter.objects.create(subject_line="More news", body="And more.")
    )
    deliver_queued()
    [message] = smtp.messages
    assert (
        urlsplit(unfolded(message["List-Unsubscribe"])[1:-1]).path
        == (newsletter_received["unsubscribe"])
    )
    assert PreferenceToken.objects.count() == 1
    # Only a hash is stored: the token itself is nowhere in the row.
    row = PreferenceToken.objects.values().get()
    assert not [v for v in row.values() if newsletter_received["token"] in str(v)]

"""The pages: the public list knows nobody; a person's page follows their consent."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from qualipact.analytics.models import DailyTotal, PageStat
from qualipact.consent.models import ConsentEvent
from qualipact.consent.selectors import consent_wording_current
from qualipact.offers import services
from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.offers.tests.conftest import (
    IP_GB,
    IP_PRIVATE,
    RAW_LATITUDE,
    RAW_LONGITUDE,
    grant,
)
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def page(token: str) -> str:
    return f"/offers/for/{token}/"


def location_url(token: str) -> str:
    return f"/offers/for/{token}/location/"


def listed(html: str) -> list[str]:
    return re.findall(r'data-offer="([^"]+)"', html)


# -- The public list ------------------------------------------------------------------


def test_the_public_list_sets_no_cookie_and_shows_everybody_the_same(client, catalogue):
    response = client.get("/offers/")
    assert response.status_code == 200
    assert response.cookies == {}
    assert listed(response.text)[:2] == ["spring-sale", "us-promo"]
    assert "Everybody sees the same list" in response.text
    other = client.get("/offers/", REMOTE_ADDR=IP_GB, HTTP_SEC_GPC="1")
    assert listed(other.text) == listed(response.text)
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "<script" not in response.text
    assert not (TopicPreference.objects.exists() or BrowsingEvent.objects.exists())
    assert not LocationFix.objects.exists()


def test_the_public_list_reads_the_same_few_queries_however_many_offers(client, catalogue):
    with CaptureQueriesContext(connection) as before:
        client.get("/offers/")
    for n in range(20):
        services.offer_create(
            slug=f"more-{n}", title="More", kind="article", summary="s", topics=["privacy"]
        )
    with CaptureQueriesContext(connection) as after:
        client.get("/offers/")
    assert len(after) == len(before) == 2


# -- A person's page --------------------------------------------------------------------


def test_without_consent_the_page_shows_the_default_list_and_asks_with_unticked_choices(
    client, alice_link, catalogue
):
    response = client.get(page(alice_link))
    assert response.status_code == 200
    assert response.cookies == {}
    assert "no-store" in response["Cache-Control"]
    assert listed(response.text) == listed(client.get("/offers/").text)
    assert response.text.count('value="grant"') == 2
    for purpose in ("personalised_offers", "location_features"):
        assert escape(consent_wording_current(purpose).text) in response.text
    assert "Your interests" not in response.text  # nothing is read or asked before consent
    assert "data-share-location" not in response.text
    assert "geolocation=()" in response["Permissions-Policy"]


def test_consent_given_on_the_page_is_recorded_with_the_words_shown(client, alice, alice_link):
    wording = consent_wording_current("personalised_offers")
    response = client.post(
        page(alice_link),
        {"action": "grant", "purpose": "personalised_offers", "wording": wording.sha256},
    )
    assert response.status_code == 302 and response["Location"] == page(alice_link)
    event = ConsentEvent.objects.get()
    assert (event.channel, event.wording_id, event.action) == ("web_form", wording.pk, "grant")
    assert may_process(alice, "personalised_offers")

    client.post(page(alice_link), {"action": "withdraw", "purpose": "personalised_offers"})
    assert not may_process(alice, "personalised_offers")


def test_the_page_changes_only_the_two_offers_choices(client, alice_link, catalogue):
    wording = consent_wording_current("marketing")
    response = client.post(
        page(alice_link), {"action": "grant", "purpose": "marketing", "wording": wording.sha256}
    )
    assert response.status_code == 400
    assert "only changes offers choices. Nothing was changed." in response.text
    assert client.post(page(alice_link), {"action": "sell"}).status_code == 400
    assert not ConsentEvent.objects.exists()


def test_interests_are_stated_on_the_page_after_consent(client, alice, alice_link, catalogue):
    refused = client.post(page(alice_link), {"action": "topics", "topics": ["security"]})
    assert refused.status_code == 403
    assert "This needs your consent first. Nothing was stored." in refused.text
    assert not TopicPreference.objects.exists()

    grant(alice, "personalised_offers")
    form = client.get(page(alice_link)).text
    assert "Your interests" in form and "checked" not in form
    response = client.post(page(alice_link), {"action": "topics", "topics": ["security"]})
    assert response.status_code == 302
    assert set(TopicPreference.objects.values_list("topic__slug", flat=True)) == {"security"}
    after = client.get(page(alice_link)).text
    assert listed(after)[:2] == ["us-promo", "security-tips"]
    assert "it matches your interest in Security" in after
    assert f'href="/offers/for/{alice_link}/offer/us-promo/"' in after

    bad = client.post(page(alice_link), {"action": "topics", "topics": ["gambling"]})
    assert bad.status_code == 400
    assert set(TopicPreference.objects.values_list("topic__slug", flat=True)) == {"security"}


def test_the_country_of_the_connection_is_used_only_when_the_person_asks(
    client, alice, alice_link, catalogue
):
    refused = client.post(page(alice_link), {"action": "location_ip"}, REMOTE_ADDR=IP_GB)
    assert refused.status_code == 403 and not LocationFix.objects.exists()

    grant(alice, "location_features")
    # Consent alone stores nothing: the page waits for the person to give a location.
    response = client.get(page(alice_link), REMOTE_ADDR=IP_GB)
    assert not LocationFix.objects.exists()
    assert "No location yet." in response.text

    client.post(page(alice_link), {"action": "location_ip"}, REMOTE_ADDR=IP_GB)
    response = client.get(page(alice_link))
    assert "Your country: GB" in response.text
    assert "Only offers available in GB." in response.text
    assert listed(response.text)[0] == "bristol-meetup"
    assert "berlin-day" not in listed(response.text)

    unknown = client.post(page(alice_link), {"action": "location_ip"}, REMOTE_ADDR=IP_PRIVATE)
    assert unknown.status_code == 400
    assert "could not be told from your connection" in unknown.text

    client.post(page(alice_link), {"action": "location_forget"})
    assert not LocationFix.objects.exists()


def test_the_page_allows_geolocation_only_with_location_consent(client, alice, alice_link):
    grant(alice, "location_features")
    response = client.get(page(alice_link))
    policy = response["Permissions-Policy"]
    assert "geolocation=(self)" in policy and "geolocation=()" not in policy
    assert "camera=()" in policy and "browsing-topics=()" in policy
    assert 'src="/static/offers/location.js"' in response.text
    assert f'data-endpoint="{location_url(alice_link)}"' in response.text
    # No inline script anywhere: the strict CSP needs none.
    assert response.text.count("<script") == 1
    assert "geolocation=()" in client.get("/offers/")["Permissions-Policy"]
    assert "geolocation=()" in client.get("/")["Permissions-Policy"]


# -- The browser's position -------------------------------------------------------------


def test_the_endpoint_stores_a_position_coarsened(client, alice, alice_link):
    grant(alice, "location_features")
    response = client.post(
        location_url(alice_link), {"latitude": RAW_LATITUDE, "longitude": RAW_LONGITUDE}
    )
    assert response.status_code == 200 and response.cookies == {}
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {"stored": {"position": "51.45,-2.59", "precision_km": 1}}
    assert LocationFix.objects.get(subject=alice).position == "51.45,-2.59"
    shown = " ".join(client.get(page(alice_link)).text.split())
    assert "Your approximate position (about 1 km): 51.45, -2.59, shared on" in shown
    assert RAW_LATITUDE not in shown and RAW_LONGITUDE not in shown


def test_the_endpoint_refuses_without_consent_in_the_api_error_shape(client, alice_link):
    response = client.post(location_url(alice_link), {"latitude": "51.45", "longitude": "-2.59"})
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "processing_refused",
            "message": "This needs your consent first. Nothing was stored.",
            "details": {"purpose": "location_features"},
        }
    }
    assert not LocationFix.objects.exists()


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"latitude": "95", "longitude": "0"}, {"latitude": "out_of_range"}),
        ({"latitude": "abc", "longitude": "0"}, {"latitude": "not_a_number"}),
        ({"longitude": "0"}, {"latitude": "not_a_number"}),
        ({"latitude": "10", "longitude": "-181"}, {"longitude": "out_of_range"}),
    ],
)
def test_the_endpoint_explains_a_bad_position_and_stores_nothing(
    client, alice, alice_link, body, details
):
    grant(alice, "location_features")
    response = client.post(location_url(alice_link), body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("invalid_position", details)
    assert error["message"].endswith("Nothing was stored.")
    assert not LocationFix.objects.exists()


def test_the_endpoint_takes_only_same_origin_posts(client, alice, alice_link):
    grant(alice, "location_features")
    body = {"latitude": "51.45", "longitude": "-2.59"}
    assert client.get(location_url(alice_link)).status_code == 405
    cross = client.post(location_url(alice_link), body, HTTP_SEC_FETCH_SITE="cross-site")
    assert cross.status_code == 403
    assert not LocationFix.objects.exists()
    same = client.post(location_url(alice_link), body, HTTP_SEC_FETCH_SITE="same-origin")
    assert same.status_code == 200


# -- Invalid links ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["tampered", "erased"])
def test_an_invalid_link_gets_a_clear_404_and_nothing_is_stored(
    client, alice, alice_link, catalogue, case
):
    grant(alice, "personalised_offers")
    grant(alice, "location_features")
    token = alice_link
    if case == "tampered":
        token = alice_link[:-2] + ("aa" if not alice_link.endswith("aa") else "bb")
    else:
        alice.erased_at = timezone.now()
        alice.save()
    consent_events, audit_events = ConsentEvent.objects.count(), AuditEvent.objects.count()

    for response in (
        client.get(page(token)),
        client.post(page(token), {"action": "topics", "topics": ["privacy"]}),
        client.post(page(token), {"action": "location_ip"}, REMOTE_ADDR=IP_GB),
        client.post(page(token), {"action": "withdraw", "purpose": "location_features"}),
        client.get(f"/offers/for/{token}/offer/privacy-guide/"),
    ):
        assert response.status_code == 404
        assert "This link is not valid. Nothing was stored." in response.text
        assert response.cookies == {}
    refused = client.post(location_url(token), {"latitude": "51.45", "longitude": "-2.59"})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "invalid_link"

    assert not TopicPreference.objects.exists()
    assert not BrowsingEvent.objects.exists()
    assert not LocationFix.objects.exists()
    assert ConsentEvent.objects.count() == consent_events
    assert AuditEvent.objects.count() == audit_events


# -- Browser signals ---------------------------------------------------------------------


def analytics_views() -> int:
    return sum(DailyTotal.objects.values_list("views", flat=True))


@pytest.mark.parametrize("header", ["HTTP_SEC_GPC", "HTTP_DNT"])
def test_gpc_and_dnt_leave_consented_offers_alone_and_switch_off_analytics(
    client, alice, alice_link, catalogue, header
):
    """GPC/DNT opt out of ads, sharing and analytics. Personalised offers and location
    features rest on the person's explicit consent, given on our own site, and are not
    sale, sharing or cross-context advertising: the signal does not switch them off."""
    grant(alice, "personalised_offers")
    grant(alice, "location_features")
    services.topic_preferences_set(
        subject=alice, topics=["security"], actor=Actor.subject(alice.pk)
    )
    browser = {"HTTP_USER_AGENT": FIREFOX, "REMOTE_ADDR": IP_GB}

    with_signal = client.get(page(alice_link), **browser, **{header: "1"})
    assert "data-privacy-signal" in with_signal.text
    assert listed(with_signal.text)[:2] == ["us-promo", "security-tips"]
    assert client.post(page(alice_link), {"action": "location_ip"}, **browser, **{header: "1"})
    client.get(f"/offers/for/{alice_link}/offer/security-tips/", **browser, **{header: "1"})
    assert BrowsingEvent.objects.count() == 1
    assert LocationFix.objects.count() == 1
    # ... but nothing was counted for analytics.
    client.get("/offers/", **browser, **{header: "1"})
    assert analytics_views() == 0 and not PageStat.objects.exists()

    # Control: the same browser without the signal is counted (as a URL pattern only).
    client.get(page(alice_link), **browser)
    assert analytics_views() == 1
    assert list(PageStat.objects.values_list("path", flat=True)) == ["/offers/for/<str>/"]

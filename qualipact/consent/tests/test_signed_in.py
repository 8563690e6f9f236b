"""The preference centre on a signed-in account, and GPC / DNT written on the account."""

import pytest
from django.utils.html import escape

from qualipact.consent.models import ConsentEvent, ConsentState
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import consent_grant
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.purposes import PURPOSES

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture
def alice_client(client, alice_account):
    client.force_login(alice_account)
    return client


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/preferences/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_every_purpose_with_its_basis_on_the_account(alice_client):
    response = alice_client.get("/preferences/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    for purpose in PURPOSES.values():
        assert escape(purpose.label) in response.text
    assert response.text.count('value="grant"') == 5


def test_it_grants_and_withdraws_on_the_signed_in_persons_own_subject(
    alice_client, alice_account, bob_account
):
    wording = consent_wording_current("marketing")
    response = alice_client.post(
        "/preferences/", {"purpose": "marketing", "action": "grant", "wording": wording.sha256}
    )
    assert response.status_code == 302
    assert may_process(alice_account.subject, "marketing")
    assert not may_process(bob_account.subject, "marketing")
    alice_client.post("/preferences/", {"purpose": "marketing", "action": "withdraw"})
    assert not may_process(alice_account.subject, "marketing")
    channels = set(ConsentEvent.objects.values_list("channel", flat=True))
    assert channels == {"preference_centre"}


def test_it_objects_to_a_legitimate_interest_purpose(alice_client, alice_account):
    alice_client.post("/preferences/", {"purpose": "analytics", "action": "object"})
    assert not may_process(alice_account.subject, "analytics")


def test_it_refuses_an_unknown_action_and_changes_nothing(alice_client):
    response = alice_client.post("/preferences/", {"purpose": "marketing", "action": "sell"})
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()


def test_a_gpc_signal_is_recorded_on_the_account_as_an_opt_out(alice_client, alice_account):
    subject = alice_account.subject
    consent_grant(
        subject=subject,
        purpose="personalised_ads",
        channel="web_form",
        actor=Actor.subject(subject.pk),
    )
    response = alice_client.get("/", headers={"Sec-GPC": "1"})
    assert "data-privacy-signal" in response.text
    recorded = ConsentEvent.objects.filter(subject=subject, channel="browser_signal")
    assert set(recorded.values_list("purpose", "action")) == {
        ("personalised_ads", "withdraw"),
        ("partner_sharing", "withdraw"),
        ("analytics", "object"),
    }
    # Off on the account itself, not only for the request that carried the signal.
    assert not may_process(subject, "personalised_ads")
    assert not may_process(subject, "analytics")
    assert not ConsentState.objects.get(subject=subject, purpose="partner_sharing").granted


def test_the_signal_is_written_once_and_never_becomes_consent(alice_client, alice_account):
    alice_client.get("/", headers={"DNT": "1"})
    alice_client.get("/offers/", headers={"DNT": "1"})
    subject = alice_account.subject
    assert ConsentEvent.objects.filter(subject=subject, channel="browser_signal").count() == 3
    # A request without the signal is not an opt-in.
    alice_client.get("/")
    assert not may_process(subject, "personalised_ads")
    assert not may_process(subject, "partner_sharing")


def test_a_later_explicit_grant_is_respected(alice_client, alice_account):
    alice_client.get("/", headers={"Sec-GPC": "1"})
    wording = consent_wording_current("partner_sharing")
    alice_client.post(
        "/preferences/",
        {"purpose": "partner_sharing", "action": "grant", "wording": wording.sha256},
    )
    from django.core.cache import cache

    cache.clear()  # a day later: the signal is checked again
    alice_client.get("/")
    assert may_process(alice_account.subject, "partner_sharing")


def test_anonymous_signals_are_honoured_without_writing_anything(client):
    response = client.get("/", headers={"Sec-GPC": "1"})
    assert "data-privacy-signal" in response.text
    assert not ConsentEvent.objects.exists()


def test_the_api_answers_a_signed_in_person_with_their_own_choices(alice_client, alice_account):
    wording = consent_wording_current("marketing")
    response = alice_client.post(
        "/api/preferences",
        {"purpose": "marketing", "action": "grant", "wording_sha256": wording.sha256},
        content_type="application/json",
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200, response.content
    assert may_process(alice_account.subject, "marketing")
    state = {p["purpose"]: p for p in alice_client.get("/api/preferences").json()["purposes"]}
    assert state["marketing"]["granted"] is True
    assert ConsentEvent.objects.get(subject=alice_account.subject).channel == "api"


def test_the_api_refuses_a_cross_site_write_and_anonymous_callers(alice_client):
    response = alice_client.post(
        "/api/preferences",
        {"purpose": "marketing", "action": "withdraw"},
        content_type="application/json",
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert not ConsentEvent.objects.exists()
    from django.test import Client

    assert Client().get("/api/preferences").status_code == 401

"""Consent to newsletters takes effect whichever channel it was given on, at an address
the person proved; withdrawal on any channel takes them out of the next send."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PERSONAS, deliver_queued
from qualipact.comms import newsletters
from qualipact.comms.models import Newsletter, NewsletterSignup
from qualipact.comms.tests.test_newsletters import SITE, unfolded
from qualipact.consent.models import Channel
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import consent_grant, consent_withdraw, objection_record
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_create

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
ALICE = PERSONAS["alice"]["email"]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def alice_client(alice_account):
    client = Client()
    client.force_login(alice_account)
    return client


def grant_on_page(client):
    wording = consent_wording_current("marketing")
    response = client.post(
        "/preferences/", {"purpose": "marketing", "action": "grant", "wording": wording.sha256}
    )
    assert response.status_code == 302


def grant_by_api(client):
    wording = consent_wording_current("marketing")
    response = client.post(
        "/api/preferences",
        json.dumps({"purpose": "marketing", "action": "grant", "wording_sha256": wording.sha256}),
        content_type="application/json",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 200, response.content


def send(smtp) -> list:
    smtp.messages.clear()
    newsletters.newsletter_send(
        newsletter=Newsletter.objects.create(subject_line="News", body="What is new.")
    )
    deliver_queued()
    return list(smtp.messages)


@pytest.mark.parametrize("grant", [grant_on_page, grant_by_api], ids=["page", "api"])
def test_it_subscribes_the_account_address_on_consent_in_the_signed_in_preference_centre(
    alice_client, alice_account, smtp, grant
):
    grant(alice_client)
    audience = newsletters.newsletter_audience()
    assert [(r.subject.pk, r.email) for r in audience] == [(alice_account.subject_id, ALICE)]
    [message] = send(smtp)
    assert message["To"] == ALICE
    assert message["Subject"] == "News"
    assert unfolded(message["List-Unsubscribe"]).startswith(f"<{SITE}/unsubscribe/")


def test_it_prefers_the_address_confirmed_for_the_newsletter_to_the_account_address(
    alice_client, alice_account
):
    grant_on_page(alice_client)
    NewsletterSignup.objects.create(
        subject=alice_account.subject,
        email="alice.news@example.org",
        wording=consent_wording_current("marketing"),
        confirmation_hash="0" * 64,
        confirm_by=timezone.now(),
        confirmed_at=timezone.now(),
    )
    [recipient] = newsletters.newsletter_audience()
    assert recipient.email == "alice.news@example.org"


def test_it_writes_to_nobody_on_consent_without_a_proven_address(smtp):
    nobody = subject_create(actor=Actor.system("test"))
    consent_grant(
        subject=nobody, purpose="marketing", channel=Channel.API, actor=Actor.subject(nobody.pk)
    )
    assert newsletters.newsletter_audience() == []
    assert send(smtp) == []


def withdraw_on_page(client, subject, smtp):
    client.post("/preferences/", {"purpose": "marketing", "action": "withdraw"})


def withdraw_by_api(client, subject, smtp):
    client.post(
        "/api/preferences",
        json.dumps({"purpose": "marketing", "action": "withdraw"}),
        content_type="application/json",
        HTTP_SEC_FETCH_SITE="same-origin",
    )


def withdraw_by_unsubscribe_link(client, subject, smtp):
    [message] = send(smtp)
    path = unfolded(message["List-Unsubscribe"])[1:-1].removeprefix(SITE)
    assert Client().post(path).status_code == 200


def withdraw_by_rights_request(client, subject, smtp):
    consent_withdraw(
        subject=subject,
        purpose="marketing",
        channel=Channel.RIGHTS_REQUEST,
        actor=Actor.subject(subject.pk),
    )


@pytest.mark.parametrize(
    "withdraw",
    [withdraw_on_page, withdraw_by_api, withdraw_by_unsubscribe_link, withdraw_by_rights_request],
    ids=["page", "api", "unsubscribe", "rights_request"],
)
def test_it_takes_the_person_out_of_the_next_send_on_withdrawal_on_any_channel(
    alice_client, alice_account, smtp, withdraw
):
    grant_on_page(alice_client)
    withdraw(alice_client, alice_account.subject, smtp)
    assert newsletters.newsletter_audience() == []
    assert send(smtp) == []


def test_it_subscribes_nobody_on_an_objection_to_something_else(alice_account, smtp):
    subject = alice_account.subject
    objection_record(
        subject=subject, purpose="analytics", channel=Channel.API, actor=Actor.subject(subject.pk)
    )
    assert newsletters.newsletter_audience() == []


def test_it_never_puts_a_child_in_the_audience_whatever_the_ledger_says(
    alice_client, alice_account
):
    from datetime import timedelta

    from qualipact.accounts.models import User

    grant_on_page(alice_client)
    assert len(newsletters.newsletter_audience()) == 1
    # The account turns out to be a child's (a corrected date of birth): the grant stays
    # in the ledger, the child rule keeps them out.
    User.objects.filter(pk=alice_account.pk).update(
        child_until=timezone.localdate() + timedelta(days=300)
    )
    assert newsletters.newsletter_audience() == []

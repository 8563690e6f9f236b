"""'Email me about my account' does what it says: off, optional notices stop; what the
person asked for or the law requires still goes. Only choices that do something are
offered (the site is English until translations exist)."""

import pytest
from django.test import Client

from conftest import deliver_queued, reauthenticate
from qualipact.accounts.models import Preferences
from qualipact.accounts.tests.test_sessions import (
    FIREFOX_WINDOWS,
    IP_US,
    browser,
    make_account,
    sign_in,
)
from qualipact.comms.models import OutboundEmail
from qualipact.comms.services import REQUIRED_PURPOSES, email_queue, email_send
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.purposes import PURPOSES, LegalBasis

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

NEW_DEVICE = "New sign-in to your Qualipact account"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def carol():
    return make_account("carol")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def set_email_choice(client: Client, on: bool) -> None:
    response = client.post(
        "/accounts/preferences/", {"channel_email": "on"} if on else {}, follow=True
    )
    assert response.status_code == 200
    assert "data-saved" in response.text


def subjects(smtp) -> list[str]:
    return [m["Subject"] for m in smtp.messages]


def test_it_offers_only_the_choices_that_do_something(carol):
    client = signed_in(carol)
    page = client.get("/accounts/preferences/").text
    assert 'name="channel_email"' in page
    assert 'name="language"' not in page
    assert 'name="channel_site"' not in page
    # A crafted form cannot set what is not offered either.
    client.post(
        "/accounts/preferences/", {"channel_email": "on", "language": "fr", "channel_site": ""}
    )
    stored = Preferences.objects.get(subject=carol.subject)
    assert (stored.language, stored.channel_site, stored.channel_email) == ("en", True, True)


def test_it_sends_no_new_device_notice_while_email_about_my_account_is_off(carol, smtp):
    first = browser()
    sign_in(first)  # the first device: the one the person uses to change the choice
    set_email_choice(first, on=False)
    sign_in(browser(ua=FIREFOX_WINDOWS, ip=IP_US), ua=FIREFOX_WINDOWS, ip=IP_US)
    deliver_queued()
    assert NEW_DEVICE not in subjects(smtp)
    assert not OutboundEmail.objects.filter(purpose="service_notifications").exists()

    set_email_choice(first, on=True)
    sign_in(browser(ua=FIREFOX_WINDOWS, ip=IP_US), ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(browser(ua=CHROME_MAC, ip=IP_US), ua=CHROME_MAC, ip=IP_US)
    deliver_queued()
    assert subjects(smtp).count(NEW_DEVICE) == 1


def test_it_decides_again_just_before_sending(carol, smtp):
    first = browser()
    sign_in(first)
    sign_in(browser(ua=FIREFOX_WINDOWS, ip=IP_US), ua=FIREFOX_WINDOWS, ip=IP_US)
    [notice] = OutboundEmail.objects.filter(purpose="service_notifications")
    set_email_choice(first, on=False)  # before the worker got to it
    assert email_send(email_id=notice.pk).status == "failed"
    assert smtp.messages == []


def test_it_still_sends_what_the_person_asked_for_or_must_know_while_off(carol, smtp):
    set_email_choice(signed_in(carol), on=False)
    # A reset link the person asked for (service delivery) ...
    Client().post("/accounts/password/reset/", {"email": "carol.tester@example.org"})
    # ... and the security notice that the password was changed.
    client = signed_in(carol)
    reauthenticate(client)
    changed = client.post(
        "/accounts/password/change/", {"password": "a completely different phrase 77"}
    )
    assert changed.status_code == 200
    deliver_queued()
    assert "Reset your password" in subjects(smtp)
    assert "Your password was changed" in subjects(smtp)


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_it_decides_each_purpose_in_the_outbox_while_the_choice_is_off(carol, purpose):
    set_email_choice(signed_in(carol), on=False)
    arguments = dict(
        subject=carol.subject,
        to="carol.tester@example.org",
        subject_line="A message",
        body="Its text.",
        purpose=purpose,
        headers={"List-Unsubscribe": "<https://qualipact.example/u/x>"},
    )
    consent_based = PURPOSES[purpose].legal_basis is LegalBasis.CONSENT
    if purpose != "service_notifications" and not consent_based:
        # Required messages always; anything else as purpose enforcement decides (no
        # objection, no restriction here).
        assert email_queue(**arguments).status == "queued"
        assert purpose in REQUIRED_PURPOSES or PURPOSES[purpose].legal_basis in (
            LegalBasis.LEGITIMATE_INTEREST,
        )
        return
    with pytest.raises(ProcessingRefused) as refused:
        email_queue(**arguments)
    reasons = refused.value.extra["reasons"]
    assert reasons == (["email_off"] if purpose == "service_notifications" else ["no_consent"])
    assert not OutboundEmail.objects.exists()

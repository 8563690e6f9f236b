"""Newsletters end to end: double opt-in, a send to the consenting audience through a
real SMTP server, and RFC 8058 one-click unsubscribe."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PERSONAS, run_deferred
from qualipact.comms import newsletters
from qualipact.comms.models import Newsletter, NewsletterSignup, OutboundEmail
from qualipact.comms.services import email_send
from qualipact.consent.models import ConsentEvent
from qualipact.consent.selectors import consent_wording_current
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.services import subject_restrict

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
SITE = "https://www.qualipact.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def deliver_queued() -> None:
    """Finish the sign-ups left to the background, then send every queued email through
    the outbox's real send path."""
    run_deferred()
    for email_id in OutboundEmail.objects.filter(status="queued").values_list("pk", flat=True):
        assert email_send(email_id=email_id).status == "sent"


def link_in(message, prefix: str) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(rf"{re.escape(SITE)}{prefix}\S+", body).group(0)


def unfolded(value: str) -> str:
    """A header's value as a mail client reads it (RFC 5322 unfolding)."""
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def sign_up(client, email: str):
    """The form, then what the worker does with it in the background."""
    wording = consent_wording_current("marketing")
    response = client.post(
        "/newsletter/", {"email": email, "wording": wording.sha256, "agree": "on"}, follow=True
    )
    run_deferred()
    return response


def subscribe(client, smtp, email: str) -> None:
    """Sign up, read the confirmation email from the SMTP server, confirm."""
    assert sign_up(client, email).status_code == 200
    deliver_queued()
    confirm = link_in(smtp.messages[-1], "/newsletter/confirm/")
    assert client.post(urlsplit(confirm).path).status_code == 200


def test_the_form_never_ticks_the_box_and_shows_the_words(client):
    response = client.get("/newsletter/")
    assert response.cookies == {}
    assert 'type="checkbox"' in response.text
    assert "checked" not in response.text
    assert "unsubscribe at any time" in response.text


def test_it_stores_nothing_without_the_box_ticked(client):
    wording = consent_wording_current("marketing")
    response = client.post("/newsletter/", {"email": "x@example.org", "wording": wording.sha256})
    assert response.status_code == 400
    assert "never ticked for you" in response.text
    assert not NewsletterSignup.objects.exists()


def test_consent_starts_only_after_the_emailed_link_is_confirmed(client, smtp):
    email = PERSONAS["alice"]["email"]
    assert sign_up(client, email).status_code == 200
    signup = NewsletterSignup.objects.get()
    assert not may_process(signup.subject, "marketing")
    deliver_queued()
    (message,) = smtp.messages
    assert message["To"] == email
    assert "List-Unsubscribe" not in message  # a confirmation is not marketing
    confirm_path = urlsplit(link_in(message, "/newsletter/confirm/")).path
    # Opening the link (or a mail scanner fetching it) subscribes nobody.
    assert "Confirm" in client.get(confirm_path).text
    assert not may_process(signup.subject, "marketing")
    assert client.post(confirm_path).status_code == 200
    assert may_process(signup.subject, "marketing")
    event = ConsentEvent.objects.get(subject=signup.subject)
    assert (event.action, event.channel) == ("grant", "email_link")
    assert event.wording == signup.wording
    # Confirming twice changes nothing more.
    client.post(confirm_path)
    assert ConsentEvent.objects.filter(subject=signup.subject).count() == 1


def test_an_expired_or_forged_confirmation_changes_nothing(client, smtp):
    sign_up(client, PERSONAS["bob"]["email"])
    deliver_queued()
    path = urlsplit(link_in(smtp.messages[-1], "/newsletter/confirm/")).path
    forged = path.rstrip("/")[:-3] + "xyz/"
    assert client.post(forged).status_code == 404
    NewsletterSignup.objects.update(confirm_by=timezone.now() - timedelta(seconds=1))
    response = client.post(path)
    assert response.status_code == 404
    assert "expired" in response.text
    assert not ConsentEvent.objects.exists()


def test_a_stale_wording_is_refused_rather_than_recorded(client):
    response = client.post(
        "/newsletter/", {"email": "x@example.org", "wording": "0" * 64, "agree": "on"}
    )
    assert response.status_code == 400
    assert "wording changed" in response.text
    assert not NewsletterSignup.objects.exists()


def test_rfc_8058_one_click_unsubscribe_takes_the_person_out_of_the_next_audience(client, smtp):
    alice, bob = PERSONAS["alice"]["email"], PERSONAS["bob"]["email"]
    subscribe(client, smtp, alice)
    subscribe(client, smtp, bob)
    sign_up(client, "carol.never.confirms@example.com")  # never confirmed: never mailed
    deliver_queued()
    smtp.messages.clear()

    issue = Newsletter.objects.create(subject_line="November news", body="What is new.")
    assert newsletters.newsletter_send(newsletter=issue) == 2
    deliver_queued()
    received = {m["To"]: m for m in smtp.messages}
    assert set(received) == {alice, bob}

    message = received[alice]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = unfolded(message["List-Unsubscribe"])
    assert header.startswith(f"<{SITE}/unsubscribe/") and header.endswith(">")
    url = urlsplit(header[1:-1])
    assert url.scheme == "https"

    # The mail provider POSTs, with no cookie and no login (a fresh client).
    provider = Client()
    response = provider.post(
        url.path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 200
    assert response.cookies == {}
    alice_subject = (
        NewsletterSignup.objects.filter(confirmed_at__isnull=False)
        .get(subject__consent_states__granted=False)
        .subject
    )
    assert not may_process(alice_subject, "marketing")
    withdrawal = ConsentEvent.objects.get(subject=alice_subject, action="withdraw")
    assert withdrawal.channel == "email_link"
    # Idempotent: a second POST is fine and records nothing more.
    assert provider.post(url.path).status_code == 200
    assert ConsentEvent.objects.filter(subject=alice_subject, action="withdraw").count() == 1

    # The next send goes to Bob only.
    smtp.messages.clear()
    later = Newsletter.objects.create(subject_line="December news", body="More.")
    assert newsletters.newsletter_send(newsletter=later) == 1
    deliver_queued()
    assert [m["To"] for m in smtp.messages] == [bob]


def test_get_on_the_unsubscribe_link_only_asks(client, smtp):
    subscribe(client, smtp, PERSONAS["alice"]["email"])
    Newsletter.objects.create(subject_line="News", body="Body")
    newsletters.newsletter_send(newsletter=Newsletter.objects.get())
    deliver_queued()
    header = unfolded(smtp.messages[-1]["List-Unsubscribe"])
    path = urlsplit(header[1:-1]).path
    response = Client().get(path)
    assert response.status_code == 200
    assert "Unsubscribe from the newsletter?" in response.text
    subject = NewsletterSignup.objects.get().subject
    assert may_process(subject, "marketing")


@pytest.mark.parametrize("token", ["forged-token", ""])
def test_a_tampered_unsubscribe_link_gets_a_clear_error_and_changes_nothing(client, smtp, token):
    subscribe(client, smtp, PERSONAS["alice"]["email"])
    response = Client().post(f"/unsubscribe/{token or 'x' * 43}/")
    assert response.status_code == 404
    assert "This link is not valid" in response.text
    subject = NewsletterSignup.objects.get().subject
    assert may_process(subject, "marketing")


def test_a_restricted_person_is_left_out_of_the_audience(client, smtp):
    subscribe(client, smtp, PERSONAS["alice"]["email"])
    subject = NewsletterSignup.objects.get().subject
    subject_restrict(subject=subject, actor=Actor.system("test"), reason="contested")
    assert newsletters.newsletter_audience() == []

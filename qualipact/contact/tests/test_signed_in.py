"""The contact form of a signed-in person: it shows the account's address (not to be
changed) and the name the account knows, and keeps the message as the account's, marked
sent signed in. A visitor who types an account's address gets a message of that address,
not one of the account."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, PERSONAS, account_for, deliver_queued, run_deferred
from qualipact.accounts.services import account_create
from qualipact.accounts.services.social import ProviderProfile, external_profile_save
from qualipact.comms.models import OutboundEmail
from qualipact.contact.events import ContactCode
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.selectors import subject_collect
from qualipact.privacy.services import subject_erase

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
URL = reverse("contact:inquiry")
ALICE = PERSONAS["alice"]
TYPED_ELSEWHERE = "someone.else@example.com"


def message(**changes) -> dict:
    """The form as a person fills it in (the address too: a signed-in page ignores it)."""
    return {"kind": "general", "website": "", **ALICE, **changes}


def field_tag(page, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page.text).group(0)


@pytest.fixture
def alice(client):
    account = account_for("alice")
    client.force_login(account)
    return account


def test_it_shows_the_accounts_address_not_to_be_changed_and_an_empty_name(client, alice):
    page = client.get(URL)
    email = field_tag(page, "email")
    assert f'value="{ALICE["email"]}"' in email and "disabled" in email
    assert "Email address of your account" in page.text
    assert 'value="' not in field_tag(page, "name")  # the account holds no name
    assert "data-signed-in" in page.text and "data-not-signed-in" not in page.text


def test_it_fills_in_the_name_a_sign_in_provider_told_us(client, alice):
    external_profile_save(
        subject=alice.subject,
        profile=ProviderProfile(
            provider="google",
            uid="alice-google-1",
            name=ALICE["name"],
            email=ALICE["email"],
            email_verified=True,
        ),
    )
    page = client.get(URL, {"kind": "privacy"})
    assert f'value="{ALICE["name"]}"' in field_tag(page, "name")
    assert '<option value="privacy" selected>' in page.text


def test_it_keeps_the_message_as_the_accounts_whatever_address_is_sent(client, alice, smtp):
    response = client.post(URL, message(email=TYPED_ELSEWHERE, name="Alice M."))
    assert response.status_code == 303
    assert response["Location"] == reverse("contact:thanks") + "?general=1"
    deliver_queued()
    inquiry = Inquiry.objects.get()
    assert inquiry.subject_id == alice.subject_id
    assert inquiry.email == ALICE["email"]
    assert inquiry.name == "Alice M."  # the name is the person's to change
    assert inquiry.sent_signed_in is True
    assert not DataSubject.objects.exclude(pk=alice.subject_id).exists()
    event = AuditEvent.objects.get(code=ContactCode.INQUIRY_SUBMITTED)
    assert event.data == {"inquiry_id": str(inquiry.pk), "kind": "general", "signed_in": True}
    [acknowledgement] = smtp.messages
    assert acknowledgement["To"] == ALICE["email"]
    assert TYPED_ELSEWHERE not in {email.to for email in OutboundEmail.objects.all()}
    thanks = client.get(response["Location"])
    assert "You sent it signed in" in thanks.text
    assert "your account's" in thanks.text


def test_it_keeps_the_message_of_a_visitor_typing_an_accounts_address_as_not_signed_in(
    client,
):
    account = account_for("alice")
    response = client.post(URL, message())
    run_deferred()
    inquiry = Inquiry.objects.get()
    # The address's person, as before (access export, erasure, retention), but not sent
    # signed in: the account's own pages leave it out.
    assert inquiry.subject_id == account.subject_id
    assert inquiry.sent_signed_in is False
    event = AuditEvent.objects.get(code=ContactCode.INQUIRY_SUBMITTED)
    assert event.data["signed_in"] is False
    collected = subject_collect(account.subject)
    assert str(inquiry.pk) in {str(r.pk) for r in collected.records if r.model == "contact.Inquiry"}
    thanks = client.get(response["Location"])
    assert "You sent it without signing in" in thanks.text
    assert "not under “Your messages”" in thanks.text


def test_it_offers_a_visitor_to_sign_in_first(client):
    page = client.get(URL)
    assert "data-not-signed-in" in page.text
    assert "disabled" not in field_tag(page, "email")


def test_it_keeps_nothing_for_an_account_erased_before_the_message_is_stored(client, alice):
    assert client.post(URL, message()).status_code == 303
    subject_erase(subject=alice.subject, actor=Actor.system("test"))
    run_deferred()  # done: nothing to keep it for, and nothing tried again
    assert not Inquiry.objects.exists()


def test_it_tells_a_signed_in_child_why_their_message_was_not_kept(client):
    child = account_create(
        username="kid",
        email="kid@example.com",
        password=PASSWORD,
        email_verified=True,
        child_until=timezone.localdate() + timedelta(days=400),
    )
    client.force_login(child)
    response = client.post(URL, message(email=TYPED_ELSEWHERE))
    assert response.status_code == 303
    run_deferred()
    assert not Inquiry.objects.exists()
    [notice] = OutboundEmail.objects.filter(subject=child.subject)
    assert notice.subject_line == "We could not keep your message"
    assert notice.to == "kid@example.com"


def test_it_logs_and_addresses_nothing_personal_signed_in(client, alice, caplog):
    caplog.set_level("DEBUG")
    stored = client.post(URL, message(email=TYPED_ELSEWHERE))
    run_deferred()
    dropped = client.post(URL, message(subject_line="Once more", message="Please call me back."))
    subject_erase(subject=alice.subject, actor=Actor.system("test"))
    run_deferred()
    assert "message of an erased account not stored" in caplog.text  # the log did record
    for response in (stored, dropped):
        assert response["Location"] == reverse("contact:thanks") + "?general=1"
    for value in (*ALICE.values(), TYPED_ELSEWHERE, "Once more", "Please call me back."):
        assert value not in caplog.text

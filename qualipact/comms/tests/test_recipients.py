"""A message about a person goes only to an address of that person (hardening item 1).

The outbox refuses every other recipient, whatever the kind of message, so no form or
API field anywhere can redirect a person's mail; see qualipact/privacy/recipients.py.
"""

import pytest

from conftest import PERSONAS, account_for, submit_persona
from qualipact.accounts.services import account_email_change_request, children
from qualipact.accounts.tests.test_children import child_sign_up
from qualipact.comms.models import OutboundEmail
from qualipact.comms.services import email_queue
from qualipact.consent.models import Channel
from qualipact.consent.services import consent_grant
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

UNSUBSCRIBE = {"List-Unsubscribe": "<https://qualipact.example/unsubscribe/x/>"}


def queue(subject, to, purpose="service_delivery"):
    return email_queue(
        subject=subject,
        to=to,
        subject_line="About your data",
        body="Something about you.",
        purpose=purpose,
        headers=UNSUBSCRIBE if purpose == "marketing" else None,
    )


@pytest.mark.parametrize(
    "purpose", ["service_delivery", "service_notifications", "data_subject_rights", "marketing"]
)
@pytest.mark.parametrize(
    "stranger",
    ["someone@elsewhere.test", "bob.okonkwo@example.net", "ALICE.marchetti@example.org.evil.test"],
)
def test_it_refuses_to_write_about_a_person_to_an_address_that_is_not_theirs(purpose, stranger):
    submit_persona("bob")  # a known address, but another person's
    alice = account_for("alice")
    consent_grant(  # so that only the address can be what is refused
        subject=alice.subject,
        purpose="marketing",
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(alice.subject_id),
    )
    with pytest.raises(ApplicationError) as refused:
        queue(alice.subject, stranger, purpose)
    assert refused.value.extra == {"to": "not_the_persons"}
    assert not OutboundEmail.objects.exists()


def test_it_writes_to_the_addresses_a_person_has_with_us():
    inquiry = submit_persona("bob")  # known by the address of a contact message
    queue(inquiry.subject, PERSONAS["bob"]["email"].upper())  # the same address, any case
    alice = account_for("alice")
    queue(alice.subject, PERSONAS["alice"]["email"])
    account_email_change_request(user=alice, new_email="alice.new@example.org")
    assert OutboundEmail.objects.filter(subject=alice.subject).count() >= 3  # + the new one
    queue(alice.subject, "alice.new@example.org")  # waiting for its confirmation link


def test_it_writes_to_a_childs_parent_about_the_child_and_to_no_one_else():
    child = child_sign_up(parent_email="pat.parent@example.org")
    assert children.ParentalConsent.objects.filter(subject=child.subject).exists()
    queue(child.subject, "pat.parent@example.org")
    with pytest.raises(ApplicationError):
        queue(child.subject, "someone@elsewhere.test")

"""End to end over real SMTP: the acknowledgement of a contact-form ticket goes out through
the outbox with the ticket's Reply-To, and the person's emailed reply to it, sent to the
development mailbox (`manage.py mailbox_serve`, a real process), lands in the ticket."""

import smtplib
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import make_msgid

import pytest

from conftest import PERSONAS, deliver_queued
from qualipact.support.addresses import inquiry_id_of_address
from qualipact.support.models import TicketMessage
from qualipact.support.tests.conftest import png_bytes, reply_email

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])
ALICE = PERSONAS["alice"]


def test_it_takes_an_emailed_reply_to_the_acknowledgement_into_the_ticket(
    smtp, support_mailbox, ticket
):
    deliver_queued()  # the outbox sends the acknowledgement to the test SMTP server
    [acknowledgement] = smtp.messages
    assert acknowledgement["To"] == ALICE["email"]
    assert f"[{ticket.reference}]" in acknowledgement["Subject"]
    reply_to = "".join(acknowledgement["Reply-To"].split())  # unfolded (RFC 5322 §2.2.3)
    assert inquiry_id_of_address(reply_to) == ticket.pk

    acknowledged_id = "".join(acknowledgement["Message-ID"].split())  # unfolded (RFC 5322)
    # Alice answers from her mail program, quoting the acknowledgement, with a photo.
    quoted = "\n".join(
        "> " + line for line in acknowledgement.get_payload(decode=True).decode().splitlines()
    )
    reply = reply_email(
        to=reply_to,
        text=f"It is the invoice of 14 March.\n\nOn Tue, Qualipact wrote:\n{quoted}\n",
        files=[("receipt.png", png_bytes(), "image/png")],
        headers={"In-Reply-To": acknowledged_id, "References": acknowledged_id},
        message_id=make_msgid(domain="mail.example.org"),
    )
    with smtplib.SMTP(support_mailbox.host, support_mailbox.port, timeout=60) as client:
        refused = client.sendmail(ALICE["email"], [reply_to], reply)
    assert refused == {}

    # The mailbox answered once the reply was in the ticket.
    [message] = TicketMessage.objects.filter(inquiry=ticket)
    assert message.kind == TicketMessage.Kind.EMAIL_IN
    assert message.body == "It is the invoice of 14 March."
    assert message.sender_matches is True
    [photo] = message.attachments.all()
    assert (photo.filename, photo.content_type) == ("receipt.png", "image/png")
    # And it kept the email in its Maildir, as it keeps every email.
    [kept] = support_mailbox.kept()
    assert message_from_bytes(kept, policy=default_policy)["Message-ID"] == reply_email_id(reply)

    # The same reply delivered again (a retry by the sender's server) is kept once.
    with smtplib.SMTP(support_mailbox.host, support_mailbox.port, timeout=60) as client:
        client.sendmail(ALICE["email"], [reply_to], reply)
    assert TicketMessage.objects.filter(inquiry=ticket).count() == 1


def test_it_takes_nothing_from_an_email_to_a_forged_reply_address(smtp, support_mailbox, ticket):
    forged = f"ticket-{ticket.pk.hex}-{'f' * 20}@support.qualipact.localhost"

    with smtplib.SMTP(support_mailbox.host, support_mailbox.port, timeout=60) as client:
        client.sendmail(ALICE["email"], [forged], reply_email(to=forged))

    assert not TicketMessage.objects.exists()
    assert len(support_mailbox.kept()) == 1  # the development mailbox keeps every email


def reply_email_id(raw: bytes) -> str:
    return message_from_bytes(raw, policy=default_policy)["Message-ID"]

"""A person's tickets in their access export, erased with them, kept by a legal hold:
everything of a ticket but staff's internal notes is theirs to see."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from conftest import PERSONAS
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.selectors import subject_collect
from qualipact.privacy.services import subject_erase
from qualipact.retention.services import legal_hold_place
from qualipact.rights.services.exports import export_build
from qualipact.rights.tests.test_exports import data_of, unzip
from qualipact.support.models import (
    Attachment,
    Complaint,
    Feedback,
    InternalNote,
    TicketLink,
    TicketMessage,
)
from qualipact.support.services.person import feedback_give, ticket_reply
from qualipact.support.services.thread import IncomingFile, message_receive
from qualipact.support.tests.test_person_pages import account_of, answer, ticket

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ACTOR = Actor.system("test")
NOTE = "Staff only: she called twice, sounded angry"
SUPPORT_MODELS = (TicketMessage, InternalNote, Attachment, Feedback, TicketLink, Complaint)


def complaint_with_everything(persona: str = "alice") -> Inquiry:
    """A complaint with a reply on the site, an emailed reply with a file, an answer, an
    internal note, a rating and the DPO's outcome."""
    inquiry = ticket(persona, kind="complaint", country="FR")
    ticket_reply(inquiry=inquiry, body="I add that it happened twice.")
    message_receive(
        inquiry=inquiry,
        kind=TicketMessage.Kind.EMAIL_IN,
        body="Here is the letter you sent.",
        files=[IncomingFile("letter-march.pdf", "application/pdf", b"%PDF-1.4 letter")],
        email_id=f"<reply-1-{persona}@mail.example.org>",
        sender_matches=True,
    )
    InternalNote.objects.create(inquiry=inquiry, subject_id=inquiry.subject_id, body=NOTE)
    answer(inquiry, "We looked into it: you are right.")
    feedback_give(inquiry=inquiry, score=4, comment="Fair in the end")
    complaint = Complaint.objects.get(inquiry=inquiry)
    complaint.outcome = Complaint.Outcome.UPHELD
    complaint.outcome_note = "We deleted the copy we had shared."
    complaint.decided_at = timezone.now()
    complaint.save()
    return inquiry


def test_it_puts_every_part_of_a_ticket_but_internal_notes_in_the_access_export():
    inquiry = complaint_with_everything()
    archive = export_build(subject=inquiry.subject, kind="access", actor=ACTOR)
    document = data_of(archive)
    values = {
        (record["model"], entry["field"]): entry["value"]
        for record in document["records"]
        for entry in record["fields"]
    }
    bodies = [
        entry["value"]
        for record in document["records"]
        if record["model"] == "support.TicketMessage"
        for entry in record["fields"]
        if entry["field"] == "body"
    ]
    assert sorted(bodies) == sorted(
        [
            "I add that it happened twice.",
            "Here is the letter you sent.",
            "We looked into it: you are right.",
        ]
    )
    assert values[("support.Attachment", "filename")] == "letter-march.pdf"
    assert values[("support.Feedback", "score")] == 4
    assert values[("support.Feedback", "comment")] == "Fair in the end"
    assert values[("support.Complaint", "outcome")] == "upheld"
    assert values[("support.Complaint", "outcome_note")] == "We deleted the copy we had shared."
    assert values[("support.Complaint", "country")] == "FR"
    assert values[("contact.Inquiry", "message")] == PERSONAS["alice"]["message"]
    # Staff's internal notes: in nothing the person is handed.
    assert "support.InternalNote" not in {record["model"] for record in document["records"]}
    for name, content in unzip(archive).items():
        assert NOTE.encode() not in content, name
        assert b"InternalNote" not in content, name
    # The registry still knows the note is the person's data (it is erased with them).
    collected = subject_collect(inquiry.subject)
    assert "support.InternalNote" in {record.model for record in collected.records}


def test_it_exports_and_erases_the_tickets_of_an_accounts_address_sent_signed_in_or_not():
    """Off the account's pages, a ticket a visitor sent with the account's address is
    still the address's person's: in their access export and erased with them."""
    account = account_of("alice")
    typed = ticket("alice")
    mine = ticket("alice", kind="privacy", sent_signed_in=True)
    archive = export_build(subject=account.subject, kind="access", actor=ACTOR)
    ids = {record["id"] for record in data_of(archive)["records"]}
    assert {str(typed.pk), str(mine.pk)} <= ids
    assert subject_erase(subject=account.subject, actor=ACTOR).complete
    assert not Inquiry.objects.exists()


def test_it_never_puts_another_persons_ticket_in_an_export():
    alices = complaint_with_everything("alice")
    complaint_with_everything("bob")
    archive = export_build(subject=alices.subject, kind="access", actor=ACTOR)
    text = json.dumps(data_of(archive))
    assert PERSONAS["bob"]["message"] not in text
    ids = {record["id"] for record in data_of(archive)["records"]}
    bobs = Inquiry.objects.exclude(pk=alices.pk).get()
    assert str(bobs.pk) not in ids


def test_it_erases_the_tickets_and_everything_of_support_with_the_person():
    alices = complaint_with_everything("alice")
    bobs = complaint_with_everything("bob")
    receipt = subject_erase(subject=alices.subject, actor=ACTOR)
    assert receipt.complete
    assert not Inquiry.objects.filter(subject_id=alices.subject_id).exists()
    for model in SUPPORT_MODELS:
        assert not model.objects.filter(subject_id=alices.subject_id).exists(), model
        assert model.objects.filter(subject_id=bobs.subject_id).exists(), model


def test_it_keeps_the_tickets_under_a_legal_hold_on_the_person():
    inquiry = complaint_with_everything()
    legal_hold_place(subject=inquiry.subject, basis="legal_claims", actor=ACTOR)
    receipt = subject_erase(subject=inquiry.subject, actor=ACTOR)
    assert not receipt.complete
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    for model in SUPPORT_MODELS:
        assert model.objects.filter(subject_id=inquiry.subject_id).exists(), model
    assert InternalNote.objects.get(inquiry=inquiry).body == NOTE  # still readable


def test_it_keeps_the_tickets_under_a_hold_on_the_ticket_models_and_erases_the_rest():
    inquiry = complaint_with_everything()
    held = ["contact.Inquiry", *(f"support.{model.__name__}" for model in SUPPORT_MODELS)]
    legal_hold_place(subject=inquiry.subject, basis="legal_claims", actor=ACTOR, models_held=held)
    receipt = subject_erase(subject=inquiry.subject, actor=ACTOR)
    assert set(held) <= set(receipt.kept)
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    for model in SUPPORT_MODELS:
        assert model.objects.filter(subject_id=inquiry.subject_id).exists(), model


@pytest.mark.parametrize("held", ["support.TicketMessage", "support.Attachment"])
def test_it_keeps_held_messages_when_the_ticket_they_belong_to_would_be_erased(held):
    """Deleting a ticket deletes its thread (a cascade): a hold on the thread alone keeps
    the ticket too, rather than letting the cascade take the held rows."""
    inquiry = complaint_with_everything()
    legal_hold_place(subject=inquiry.subject, basis="legal_claims", actor=ACTOR, models_held=[held])
    receipt = subject_erase(subject=inquiry.subject, actor=ACTOR)
    assert {held, "contact.Inquiry"} <= set(receipt.kept)
    assert TicketMessage.objects.filter(inquiry=inquiry).count() == 3
    # What the hold does not cover, and nothing held hangs on, is erased.
    attachments = Attachment.objects.filter(subject_id=inquiry.subject_id)
    assert attachments.count() == (1 if held == "support.Attachment" else 0)
    assert not Feedback.objects.filter(subject_id=inquiry.subject_id).exists()

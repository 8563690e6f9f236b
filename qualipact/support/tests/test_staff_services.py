"""Staff's work on a ticket, through the services: an answer reaches the person by the
outbox with the ticket's reply address and reference; calls, chats and internal notes
land in the thread (notes never in the person's); only staff of the ticket's queue act;
a complaint is acknowledged, extended within two months with reasons and decided with
the supervisory authority named; the DPOs are reminded of its deadlines once, with a
controlled clock; answered tickets that went quiet are closed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from conftest import PERSONAS, deliver_queued
from qualipact.comms.models import OutboundEmail
from qualipact.contact.models import Inquiry
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.support.addresses import reply_address
from qualipact.support.events import SupportCode
from qualipact.support.models import Complaint, InternalNote, TicketMessage
from qualipact.support.selectors import thread_of
from qualipact.support.services.person import ticket_reply
from qualipact.support.services.staff import (
    complaint_acknowledge,
    complaint_decide,
    complaint_extend,
    complaint_reminders_send,
    ticket_answer,
    ticket_contact_log,
    ticket_note_add,
    tickets_close_quiet,
)
from qualipact.support.tests.staff_helpers import (
    agent_and_dpo,
    complaint_from,
    question_from,
    staff_member,
)
from qualipact.web.dates import long_date
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ANSWER = "We have resent your March invoice to this address."


def events_of(code):
    return list(AuditEvent.objects.filter(code=code).order_by("id"))


def sent_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def header(mail, name):
    """A header's value, unfolded (a long Reply-To is folded onto its own line)."""
    return " ".join(str(mail[name]).split())


def mail_titled(smtp, address, title):
    """The one email to `address` whose subject ends with `title` (the outbox sends in no
    particular order)."""
    [mail] = [m for m in sent_to(smtp, address) if m["Subject"].endswith(f"] {title}")]
    return mail


# -- answers ------------------------------------------------------------------------------


def test_it_sends_the_answer_through_the_outbox_with_the_reply_address_and_reference(smtp):
    agent, _dpo = agent_and_dpo()
    inquiry = question_from("alice")
    message = ticket_answer(inquiry=inquiry, by=agent, body=f"  {ANSWER}\n")
    deliver_queued()

    assert len(sent_to(smtp, PERSONAS["alice"]["email"])) == 2  # the acknowledgement, the answer
    answer = mail_titled(smtp, PERSONAS["alice"]["email"], "Our answer to your message")
    assert answer["Subject"] == f"[{inquiry.reference}] Our answer to your message"
    assert header(answer, "Reply-To") == reply_address(inquiry)
    assert ANSWER in answer.get_payload(decode=True).decode()
    # One thread in a mail program: the answer follows the acknowledgement (RFC 5322 3.6.4).
    acknowledgement = mail_titled(smtp, PERSONAS["alice"]["email"], "We received your message")
    assert acknowledgement["Message-ID"] != answer["Message-ID"]
    assert answer["In-Reply-To"] == acknowledgement["Message-ID"]
    assert answer["References"] == acknowledgement["Message-ID"]
    assert acknowledgement["In-Reply-To"] is None

    message.refresh_from_db()
    assert message.kind == TicketMessage.Kind.ANSWER and message.author == agent
    assert message.body == ANSWER
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.ANSWERED
    [event] = events_of(SupportCode.ANSWER_SENT)
    assert event.actor_kind == "staff" and event.actor_id == str(agent.pk)
    assert event.purpose == "customer_support"
    assert event.data == {"inquiry_id": str(inquiry.pk), "message_id": str(message.pk)}


@pytest.mark.parametrize("body", ["", "   \n", "x" * 20_001])
def test_it_refuses_an_empty_or_overlong_answer_and_sends_nothing(body):
    agent, _dpo = agent_and_dpo()
    inquiry = question_from()
    emails = OutboundEmail.objects.count()
    with pytest.raises(ApplicationError) as refused:
        ticket_answer(inquiry=inquiry, by=agent, body=body)
    assert set(refused.value.extra) == {"body"}
    assert OutboundEmail.objects.count() == emails
    assert not TicketMessage.objects.exists()


def test_it_logs_a_phone_call_and_a_chat_which_the_person_sees():
    agent, _dpo = agent_and_dpo()
    inquiry = question_from()
    emails = OutboundEmail.objects.count()
    ticket_contact_log(inquiry=inquiry, by=agent, kind="phone", body="Called; invoice found.")
    ticket_contact_log(inquiry=inquiry, by=agent, kind="chat", body="Chat: confirmed address.")
    assert OutboundEmail.objects.count() == emails  # logged, not emailed
    person = thread_of(inquiry=inquiry, for_staff=False)
    assert [(e.kind, e.body) for e in person[1:]] == [
        ("phone", "Called; invoice found."),
        ("chat", "Chat: confirmed address."),
    ]
    assert {e.who for e in person[1:]} == {"Support team"}
    assert [e.data["kind"] for e in events_of(SupportCode.CONTACT_LOGGED)] == ["phone", "chat"]
    with pytest.raises(ApplicationError):
        ticket_contact_log(inquiry=inquiry, by=agent, kind="answer", body="Not a call")


def test_it_never_shows_an_internal_note_to_the_person():
    agent, _dpo = agent_and_dpo()
    inquiry = question_from()
    note = ticket_note_add(inquiry=inquiry, by=agent, body="Customer is a reseller; check terms.")
    staff_thread = thread_of(inquiry=inquiry, for_staff=True)
    person_thread = thread_of(inquiry=inquiry, for_staff=False)
    assert [e.body for e in staff_thread if e.internal] == ["Customer is a reseller; check terms."]
    assert all(not e.internal and "reseller" not in e.body for e in person_thread)
    assert len(person_thread) == 1  # the opening message only
    [event] = events_of(SupportCode.NOTE_ADDED)
    assert event.data["note_id"] == str(note.pk)
    assert "reseller" not in str(event.data)


@pytest.mark.parametrize(
    "act",
    [
        lambda inquiry, by: ticket_answer(inquiry=inquiry, by=by, body="Hello"),
        lambda inquiry, by: ticket_contact_log(inquiry=inquiry, by=by, kind="phone", body="Hi"),
        lambda inquiry, by: ticket_note_add(inquiry=inquiry, by=by, body="A note"),
    ],
    ids=["answer", "log", "note"],
)
def test_it_lets_only_staff_of_the_tickets_queue_act(act):
    agent, dpo = agent_and_dpo()
    recruiter = staff_member("rita", Role.RECRUITER)
    question, complaint = question_from(), complaint_from()
    for inquiry, outsiders in ((question, (dpo, recruiter)), (complaint, (agent, recruiter))):
        for outsider in outsiders:
            with pytest.raises(ApplicationError) as refused:
                act(inquiry, outsider)
            assert refused.value.extra == {"queue": "not_yours"}
    assert not TicketMessage.objects.exists() and not InternalNote.objects.exists()
    act(question, agent)
    act(complaint, dpo)


# -- complaints ---------------------------------------------------------------------------


def test_it_acknowledges_a_complaint_with_its_first_answer(smtp):
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from()
    ticket_answer(inquiry=inquiry, by=dpo, body="We are checking our records.")
    complaint = Complaint.objects.get(inquiry=inquiry)
    assert complaint.acknowledged_at is not None
    [event] = events_of(SupportCode.ANSWER_SENT)
    assert event.purpose == "data_subject_rights"
    with pytest.raises(ApplicationError):  # acknowledged already
        complaint_acknowledge(inquiry=inquiry, by=dpo)


def test_it_acknowledges_a_complaint_and_tells_the_person_the_answers_date(smtp):
    agent, dpo = agent_and_dpo()
    inquiry = complaint_from()
    with pytest.raises(ApplicationError):
        complaint_acknowledge(inquiry=inquiry, by=agent)
    complaint = complaint_acknowledge(inquiry=inquiry, by=dpo)
    assert complaint.acknowledged_at is not None
    deliver_queued()
    mail = mail_titled(smtp, PERSONAS["bob"]["email"], "We are looking into your complaint")
    assert mail["Subject"].startswith(f"[{inquiry.reference}] ")
    # The date as the person's page writes it ("8 December 2026", no leading zero).
    assert long_date(complaint.answer_by) in mail.get_payload(decode=True).decode()
    [event] = events_of(SupportCode.COMPLAINT_ACKNOWLEDGED)
    assert event.actor_id == str(dpo.pk)
    with pytest.raises(ApplicationError):
        complaint_acknowledge(inquiry=question_from(), by=dpo)  # not a complaint


def test_it_extends_a_complaint_once_within_two_months_and_tells_the_person_why(smtp):
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from()
    complaint = Complaint.objects.get(inquiry=inquiry)
    original = complaint.answer_by
    latest = (original + timedelta(days=60)).date()
    reason = "We must ask our payment provider for its records."

    def extend(answer_on: date, text: str = reason):
        return complaint_extend(inquiry=inquiry, by=dpo, answer_on=answer_on, reason=text)

    for answer_on, text, field in (
        (latest + timedelta(days=1), reason, "answer_on"),  # more than two months
        (original.date(), reason, "answer_on"),  # not later
        (latest, "  ", "reason"),  # no reason
    ):
        with pytest.raises(ApplicationError) as refused:
            extend(answer_on, text)
        assert field in refused.value.extra
    complaint.refresh_from_db()
    assert complaint.answer_by == original and complaint.extended_at is None

    extended = extend(latest)
    assert extended.answer_by.date() == latest and extended.answer_by.time() == original.time()
    assert extended.extension_reason == reason and extended.extended_at is not None
    assert extended.acknowledged_at is not None  # the person heard from us
    deliver_queued()
    mail = mail_titled(smtp, PERSONAS["bob"]["email"], "We need more time for your complaint")
    body = mail.get_payload(decode=True).decode()
    assert reason in body and long_date(extended.answer_by) in body
    assert header(mail, "Reply-To") == reply_address(inquiry)
    [event] = events_of(SupportCode.COMPLAINT_EXTENDED)
    assert event.actor_id == str(dpo.pk) and "payment" not in str(event.data)
    with pytest.raises(ApplicationError) as again:
        extend(latest)
    assert again.value.extra == {"complaint": "extended"}


def test_it_records_the_outcome_names_the_cnil_and_closes_the_ticket(smtp):
    agent, dpo = agent_and_dpo()
    inquiry = complaint_from(country="fr")
    with pytest.raises(ApplicationError):
        complaint_decide(inquiry=inquiry, by=agent, outcome="upheld", note="Sorry")
    with pytest.raises(ApplicationError):
        complaint_decide(inquiry=inquiry, by=dpo, outcome="maybe", note="Sorry")
    complaint = complaint_decide(
        inquiry=inquiry, by=dpo, outcome="partly_upheld", note="We deleted the old copy."
    )
    assert complaint.decided_by == dpo and complaint.outcome == "partly_upheld"
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.CLOSED and inquiry.closed_at is not None
    deliver_queued()
    mail = mail_titled(smtp, PERSONAS["bob"]["email"], "Our decision on your complaint")
    body = mail.get_payload(decode=True).decode()
    assert "Partly upheld" in body and "We deleted the old copy." in body
    assert "CNIL" in body and "https://www.cnil.fr" in body
    [event] = events_of(SupportCode.COMPLAINT_DECIDED)
    assert event.data["outcome"] == "partly_upheld" and event.purpose == "data_subject_rights"
    # Decided: the outcome and its deadline cannot change any more.
    for act in (
        lambda: complaint_decide(inquiry=inquiry, by=dpo, outcome="upheld", note="Again"),
        lambda: complaint_extend(
            inquiry=inquiry, by=dpo, answer_on=date.today() + timedelta(days=40), reason="Late"
        ),
    ):
        with pytest.raises(ApplicationError) as refused:
            act()
        assert refused.value.extra == {"complaint": "decided"}


def test_it_answers_what_the_person_writes_after_the_outcome_and_keeps_the_outcome(smtp):
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from(country="fr")
    complaint_decide(inquiry=inquiry, by=dpo, outcome="not_upheld", note="No fault found.")
    ticket_reply(inquiry=inquiry, body="Why not? I have the letter.")
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.RECEIVED  # back in the DPO's queue
    ticket_answer(inquiry=inquiry, by=dpo, body="The letter was sent by another company.")
    inquiry.refresh_from_db()
    complaint = Complaint.objects.get(inquiry=inquiry)
    assert inquiry.status == Inquiry.Status.ANSWERED
    assert complaint.outcome == "not_upheld" and complaint.outcome_note == "No fault found."
    deliver_queued()
    mail = mail_titled(smtp, PERSONAS["bob"]["email"], "Our answer to your message")
    assert "another company" in mail.get_payload(decode=True).decode()


def test_it_points_to_the_edpb_list_for_a_country_without_a_known_authority(smtp):
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from(country="")
    complaint_decide(inquiry=inquiry, by=dpo, outcome="not_upheld", note="No fault found.")
    deliver_queued()
    mail = mail_titled(smtp, PERSONAS["bob"]["email"], "Our decision on your complaint")
    body = mail.get_payload(decode=True).decode()
    assert "edpb.europa.eu" in body


# -- reminders, with a controlled clock ---------------------------------------------------


def dpo_reminders(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("Complaint ")]


def test_it_reminds_every_dpo_of_each_deadline_once_before_it_passes(smtp):
    _agent, dpo = agent_and_dpo()
    second_dpo = staff_member("dan", Role.DPO)
    staff_member("former", Role.DPO).groups.clear()  # no longer a DPO: not told
    inquiry = complaint_from()
    complaint = Complaint.objects.get(inquiry=inquiry)
    deliver_queued()

    assert complaint_reminders_send(now=complaint.acknowledge_by - timedelta(days=3)) == 0
    day_before = complaint.acknowledge_by - timedelta(days=1)
    assert complaint_reminders_send(now=day_before) == 1
    assert complaint_reminders_send(now=day_before + timedelta(hours=6)) == 0  # once
    deliver_queued()
    reminders = dpo_reminders(smtp)
    assert sorted(m["To"] for m in reminders) == sorted(
        [f"{dpo.username}@qualipact.example", f"{second_dpo.username}@qualipact.example"]
    )
    body = reminders[0].get_payload(decode=True).decode()
    assert inquiry.reference in body and "acknowledged" in body
    assert f"/staff/dpo/messages/{inquiry.pk}/" in body
    for value in PERSONAS["bob"].values():  # references and dates only
        assert not value or value not in body
    [event] = events_of(SupportCode.COMPLAINT_REMINDER_SENT)
    assert event.data["deadline"] == "acknowledge" and event.actor_kind == "system"

    # The answer's deadline gets its own reminder, once.
    before_answer = complaint.answer_by - timedelta(days=1)
    assert complaint_reminders_send(now=before_answer - timedelta(days=5)) == 0
    assert complaint_reminders_send(now=before_answer) == 1
    assert complaint_reminders_send(now=before_answer) == 0
    assert [e.data["deadline"] for e in events_of(SupportCode.COMPLAINT_REMINDER_SENT)] == [
        "acknowledge",
        "answer",
    ]


def test_it_sends_no_reminder_for_a_deadline_met(smtp):
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from()
    complaint = Complaint.objects.get(inquiry=inquiry)
    ticket_answer(inquiry=inquiry, by=dpo, body="We are on it.")  # acknowledged
    assert complaint_reminders_send(now=complaint.acknowledge_by - timedelta(days=1)) == 0
    complaint_decide(inquiry=inquiry, by=dpo, outcome="upheld", note="Fixed.")
    assert complaint_reminders_send(now=complaint.answer_by - timedelta(days=1)) == 0
    assert complaint_reminders_send(now=complaint.answer_by + timedelta(days=3)) == 0
    assert events_of(SupportCode.COMPLAINT_REMINDER_SENT) == []


def test_it_reminds_again_of_an_extended_deadline():
    _agent, dpo = agent_and_dpo()
    inquiry = complaint_from()
    complaint_acknowledge(inquiry=inquiry, by=dpo)
    complaint = Complaint.objects.get(inquiry=inquiry)
    assert complaint_reminders_send(now=complaint.answer_by - timedelta(days=1)) == 1
    new_day = (complaint.answer_by + timedelta(days=30)).date()
    complaint_extend(
        inquiry=inquiry,
        by=dpo,
        answer_on=new_day,
        reason="Waiting for records.",
        now=complaint.answer_by - timedelta(hours=12),
    )
    complaint.refresh_from_db()
    assert complaint_reminders_send(now=complaint.answer_by - timedelta(days=3)) == 0
    assert complaint_reminders_send(now=complaint.answer_by - timedelta(days=1)) == 1
    assert complaint_reminders_send(now=complaint.answer_by - timedelta(hours=1)) == 0


# -- quiet tickets ------------------------------------------------------------------------


def test_it_closes_answered_tickets_quiet_for_30_days():
    agent, dpo = agent_and_dpo()
    quiet, replied, waiting, complaint = (
        question_from(),
        question_from(),
        question_from(),
        complaint_from(),
    )
    ticket_answer(inquiry=quiet, by=agent, body="Done.")
    ticket_answer(inquiry=replied, by=agent, body="Done.")
    ticket_answer(inquiry=complaint, by=dpo, body="Looking into it.")
    later = timezone.now() + timedelta(days=31)
    # A call logged ten days before `later` keeps that ticket going.
    call = ticket_contact_log(inquiry=replied, by=agent, kind="phone", body="Called back.")
    TicketMessage.objects.filter(pk=call.pk).update(created_at=later - timedelta(days=10))

    assert tickets_close_quiet(now=timezone.now() + timedelta(days=29)) == 0
    assert tickets_close_quiet(now=later) == 1
    statuses = {i.pk: i.status for i in Inquiry.objects.all()}
    assert statuses == {
        quiet.pk: "closed",
        replied.pk: "answered",
        waiting.pk: "received",  # not answered yet
        complaint.pk: "answered",  # waits for the DPO's outcome
    }
    quiet.refresh_from_db()
    assert quiet.closed_at == later
    [event] = events_of(SupportCode.TICKETS_CLOSED_QUIET)
    assert event.data == {"count": 1}
    assert tickets_close_quiet(now=later) == 0  # nothing more, no empty event
    assert len(events_of(SupportCode.TICKETS_CLOSED_QUIET)) == 1

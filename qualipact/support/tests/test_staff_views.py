"""The staff's ticket pages: the thread and forms, every action answered with a redirect
(and carried out once), refusals shown beside the field with what was typed kept, role
and queue refusals, the complaint's panel (authority, deadlines, overdue in red) and the
DPO's complaints page and console entry."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PERSONAS
from qualipact.privacy.audit import EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.support.models import Complaint, InternalNote, TicketMessage
from qualipact.support.selectors import days_left
from qualipact.support.services.person import feedback_give
from qualipact.support.services.staff import ticket_answer, ticket_contact_log, ticket_note_add
from qualipact.support.tests.staff_helpers import (
    agent_and_dpo,
    complaint_from,
    question_from,
    staff_member,
)
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def url(queue, page, inquiry):
    return reverse(f"support:staff_{queue}_{page}", args=[inquiry.pk])


@pytest.fixture
def staff():
    return agent_and_dpo()


def test_it_keeps_the_ticket_pages_at_their_addresses():
    inquiry_id = "0b9f5f7e-8d1c-4f7e-9a53-2b8f0c1d2e3f"
    assert reverse("support:staff_support_ticket", args=[inquiry_id]) == (
        f"/staff/support/{inquiry_id}/"
    )
    assert reverse("support:staff_dpo_ticket", args=[inquiry_id]) == (
        f"/staff/dpo/messages/{inquiry_id}/"
    )
    assert reverse("support:staff_support_ticket_assign", args=[inquiry_id]).endswith("/assign/")
    assert reverse("support:staff_dpo_ticket_status", args=[inquiry_id]).endswith("/status/")
    assert reverse("support:staff_complaints") == "/staff/dpo/complaints/"


def test_it_shows_the_fields_then_the_thread_with_notes_to_staff(client, staff):
    agent, _dpo = staff
    inquiry = question_from()
    ticket_contact_log(inquiry=inquiry, by=agent, kind="chat", body="Chatted about the invoice.")
    ticket_note_add(inquiry=inquiry, by=agent, body="Check with billing.")
    client.force_login(agent)
    response = client.get(url("support", "ticket", inquiry))
    assert response.status_code == 200
    text = response.text
    assert (
        text.index("data-message-fields")
        < text.index("data-thread")
        < text.index("data-answer-form")
    )
    assert "Chatted about the invoice." in text and "Check with billing." in text
    # The person's first message is shown once, among the message's fields.
    assert text.count(html.escape(PERSONAS["alice"]["message"])) == 1
    assert "Message through the contact form" not in text
    assert "Internal note (never shown to the person)" in text
    assert "data-complaint" not in text  # not a complaint
    assert "no-store" in response["Cache-Control"]
    # The reading is recorded: the message's fields, the thread's messages and notes.
    models = {
        event.data["model"]
        for event in AuditEvent.objects.filter(
            code=EventCode.SUBJECT_DATA_VIEWED, subject_id=inquiry.subject_id
        )
    }
    assert models == {"contact.Inquiry", "support.TicketMessage", "support.InternalNote"}


def test_it_shows_the_persons_rating_and_records_that_it_was_read(client, staff):
    agent, _dpo = staff
    inquiry = question_from()
    client.force_login(agent)
    page = client.get(url("support", "ticket", inquiry))
    assert "data-rating>not rated<" in page.text
    ticket_answer(inquiry=inquiry, by=agent, body="Here is your invoice.")
    feedback_give(inquiry=inquiry, score=2, comment="Slow, but right.")

    text = client.get(url("support", "ticket", inquiry)).text

    assert "2 out of 5" in text and "Slow, but right." in text
    viewed = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, data__model="support.Feedback"
    )
    assert [sorted(event.data["fields"]) for event in viewed] == [["comment", "score"]]


def test_it_answers_from_the_page_once_and_says_so(client, staff):
    agent, _dpo = staff
    inquiry = question_from()
    client.force_login(agent)
    data = {"body": "Your invoice is attached to our next email."}
    response = client.post(url("support", "ticket_answer", inquiry), data)
    assert response.status_code == 303
    assert response["Location"] == url("support", "ticket", inquiry) + "?done=answer_sent"
    again = client.post(url("support", "ticket_answer", inquiry), data)  # a double-click
    assert again.status_code == 303 and again["Location"] == response["Location"]
    assert TicketMessage.objects.filter(kind="answer").count() == 1
    page = client.get(response["Location"])
    assert 'data-done="answer_sent"' in page.text and "on its way to the person" in page.text
    assert "Your invoice is attached to our next email." in page.text
    assert "data-status>Answered<" in page.text


def test_it_shows_the_error_beside_the_field_and_keeps_what_was_typed(client, staff):
    agent, _dpo = staff
    inquiry = question_from()
    client.force_login(agent)
    response = client.post(url("support", "ticket_log", inquiry), {"kind": "chat", "body": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert 'value="chat" ' in response.text and "checked" in response.text
    response = client.post(
        url("support", "ticket_log", inquiry), {"kind": "fax", "body": "Sent a fax."}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.text and "Sent a fax." in response.text
    assert not TicketMessage.objects.exists()
    response = client.post(url("support", "ticket_note", inquiry), {"body": "x" * 20_001})
    assert response.status_code == 400 and "at most 20000 characters" in response.text
    assert not InternalNote.objects.exists()


def test_it_refuses_other_roles_and_other_queues(client, staff):
    agent, dpo = staff
    question, complaint = question_from(), complaint_from()
    client.force_login(dpo)
    assert client.get(url("support", "ticket", question)).status_code == 403
    assert client.post(url("support", "ticket_answer", question), {"body": "Hi"}).status_code == 403
    client.force_login(agent)
    assert client.get(url("dpo", "ticket", complaint)).status_code == 403
    assert client.get(reverse("support:staff_complaints")).status_code == 403
    # A complaint typed under the support queue's address does not exist there.
    assert client.get(f"/staff/support/{complaint.pk}/").status_code == 404
    assert client.post(f"/staff/support/{complaint.pk}/answer/", {"body": "Hi"}).status_code == 404
    # Complaint actions exist only under the DPO's queue.
    assert client.post(f"/staff/support/{question.pk}/complaint/decide/").status_code == 404
    assert client.get(url("dpo", "complaint_decide", complaint)).status_code == 403
    client.force_login(dpo)
    assert client.get(url("dpo", "complaint_decide", complaint)).status_code == 405
    assert not TicketMessage.objects.exists()


def test_it_shows_a_french_complaint_with_the_cnil_and_its_deadlines(client, staff):
    _agent, dpo = staff
    inquiry = complaint_from(country="FR")
    client.force_login(dpo)
    response = client.get(url("dpo", "ticket", inquiry))
    assert response.status_code == 200
    text = response.text
    assert "Commission nationale de l&#x27;informatique et des libertés (CNIL)" in text
    assert 'href="https://www.cnil.fr"' in text
    complaint = Complaint.objects.get(inquiry=inquiry)
    assert f"{complaint.acknowledge_by:%Y-%m-%d}" in text and "7 days left" in text
    assert f"{complaint.answer_by:%Y-%m-%d}" in text and "30 days left" in text
    assert "data-overdue" not in text
    for form in ("data-acknowledge-form", "data-extend-form", "data-decide-form"):
        assert form in text
    # The country is a personal field: its showing is recorded.
    [event] = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, data__model="support.Complaint"
    )
    assert event.data["fields"] == ["country"] and event.purpose == "data_subject_rights"


def test_it_shows_an_overdue_deadline_in_red(client, staff):
    _agent, dpo = staff
    inquiry = complaint_from()
    Complaint.objects.filter(inquiry=inquiry).update(
        acknowledge_by=timezone.now() - timedelta(days=2, hours=1)
    )
    client.force_login(dpo)
    text = client.get(url("dpo", "ticket", inquiry)).text
    assert 'data-deadline="acknowledge" data-overdue class="failure"' in text
    assert "overdue by 3 days" in text


def test_it_extends_and_decides_from_the_page(client, staff):
    _agent, dpo = staff
    inquiry = complaint_from(country="FR")
    complaint = Complaint.objects.get(inquiry=inquiry)
    client.force_login(dpo)
    too_late = (complaint.answer_by + timedelta(days=61)).date().isoformat()
    reason = "We are waiting for the logs of our processor."
    response = client.post(
        url("dpo", "complaint_extend", inquiry), {"answer_on": too_late, "reason": reason}
    )
    assert response.status_code == 400
    assert response.text.count("two months at most") == 1  # beside the field, once
    assert "Check: New answer deadline." in response.text
    assert reason in response.text and f'value="{too_late}"' in response.text  # kept
    fine = (complaint.answer_by + timedelta(days=45)).date().isoformat()
    response = client.post(
        url("dpo", "complaint_extend", inquiry), {"answer_on": fine, "reason": reason}
    )
    assert response.status_code == 303 and response["Location"].endswith("?done=extended")
    page = client.get(response["Location"]).text
    assert "data-extended" in page and reason in page and "data-extend-form" not in page

    response = client.post(url("dpo", "complaint_decide", inquiry), {"outcome": "", "note": "X"})
    assert response.status_code == 400 and "This field is required." in response.text
    response = client.post(
        url("dpo", "complaint_decide", inquiry),
        {"outcome": "not_upheld", "note": "Our logs show no access."},
    )
    assert response.status_code == 303 and response["Location"].endswith("?done=decided")
    page = client.get(response["Location"]).text
    assert "Not upheld" in page and "data-status>Closed<" in page
    assert "data-decide-form" not in page and "data-acknowledge-form" not in page
    # A refusal of the whole form (a page left open from before the outcome) is said once.
    response = client.post(
        url("dpo", "complaint_decide", inquiry), {"outcome": "upheld", "note": "Again"}
    )
    assert response.status_code == 400
    assert response.text.count("The outcome of this complaint is recorded already") == 1


def test_it_acknowledges_from_the_page(client, staff):
    _agent, dpo = staff
    inquiry = complaint_from()
    client.force_login(dpo)
    response = client.post(url("dpo", "complaint_acknowledge", inquiry))
    assert response.status_code == 303 and response["Location"].endswith("?done=acknowledged")
    assert Complaint.objects.get(inquiry=inquiry).acknowledged_at is not None
    assert "data-acknowledge-form" not in client.get(response["Location"]).text


def in_page_order(text, inquiries):
    """The inquiries listed on the page, in the order it lists them."""
    found = [(text.find(f'data-complaint="{i.pk}"'), i) for i in inquiries]
    return [i for position, i in sorted(found, key=lambda pair: pair[0]) if position >= 0]


def test_it_lists_complaints_with_their_deadlines_and_counts_them_on_the_console(client, staff):
    _agent, dpo = staff
    soon, overdue, later, decided = (complaint_from() for _ in range(4))
    now = timezone.now()
    Complaint.objects.filter(inquiry=overdue).update(acknowledge_by=now - timedelta(days=1))
    Complaint.objects.filter(inquiry=later).update(
        acknowledged_at=now, answer_by=now + timedelta(days=20)
    )
    Complaint.objects.filter(inquiry=decided).update(decided_at=now, outcome="upheld")
    question_from()  # not a complaint

    client.force_login(dpo)
    page = client.get(reverse("support:staff_complaints"))
    assert page.status_code == 200
    listed = in_page_order(page.text, (soon, overdue, later, decided))
    assert listed == [overdue, soon, later]  # next deadline first; decided ones not waiting
    assert f'data-complaint="{overdue.pk}" data-overdue' in page.text
    for name, expected in (
        ("week", [soon]),
        ("overdue", [overdue]),
        ("all", [overdue, soon, later, decided]),
    ):
        text = client.get(reverse("support:staff_complaints"), {"show": name}).text
        shown = in_page_order(text, (soon, overdue, later, decided))
        assert shown == expected, name
    assert url("dpo", "ticket", soon) in page.text
    # It decrypts nothing: no staff view recorded.
    assert not AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED).exists()

    console = client.get("/staff/").text
    assert 'data-console-page="support:staff_complaints"' in console
    assert "<strong>1</strong> due within 7 days" in console
    assert '<li class="urgent" data-waiting="overdue">' in console

    client.force_login(staff_member("both", Role.SUPPORT_AGENT))
    assert 'data-console-page="support:staff_complaints"' not in client.get("/staff/").text


@pytest.mark.parametrize(
    ("remaining", "shown"),
    [
        (timedelta(days=7), 7),
        (timedelta(days=7) - timedelta(seconds=1), 7),  # a part day counts whole
        (timedelta(days=6, hours=1), 7),
        (timedelta(days=6), 6),
        (timedelta(hours=1), 1),
        (timedelta(0), 0),
        (-timedelta(minutes=1), -1),  # late as soon as it has passed
        (-timedelta(days=2, hours=3), -3),
    ],
)
def test_it_counts_the_days_left_to_a_deadline_as_a_person_would(remaining, shown):
    now = timezone.now()
    assert days_left(now + remaining, now) == shown

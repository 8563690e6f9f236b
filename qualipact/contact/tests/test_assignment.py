"""Taking a message, giving it to a colleague, leaving it unassigned, and marking it
answered or closed: each change is audited, and a change nobody may make changes nothing."""

import pytest
from django.urls import reverse

from qualipact.contact.events import ContactCode
from qualipact.contact.services import inquiry_assign, inquiry_status_set
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def events(code):
    return list(AuditEvent.objects.filter(code=code))


def test_it_assigns_a_message_to_the_agent_who_takes_it_and_audits_it(agent, question):
    inquiry_assign(inquiry=question, by=agent, assignee_id=agent.pk, seen_assignee_id=None)
    question.refresh_from_db()
    assert question.assigned_to == agent and question.assigned_at is not None
    [event] = events(ContactCode.INQUIRY_ASSIGNED)
    assert (event.actor_kind, event.actor_id) == ("staff", str(agent.pk))
    assert event.subject_id == question.subject_id
    assert event.purpose == "customer_support"
    assert event.data == {
        "inquiry_id": str(question.pk),
        "queue": "support",
        "assignee_id": str(agent.pk),
    }


def test_it_gives_a_message_to_a_colleague_then_leaves_it_unassigned(agent, colleague, question):
    inquiry_assign(inquiry=question, by=agent, assignee_id=colleague.pk, seen_assignee_id=None)
    question.refresh_from_db()
    assert question.assigned_to == colleague
    inquiry_assign(inquiry=question, by=agent, assignee_id=None, seen_assignee_id=colleague.pk)
    question.refresh_from_db()
    assert question.assigned_to is None and question.assigned_at is None
    [event] = events(ContactCode.INQUIRY_UNASSIGNED)
    assert event.actor_id == str(agent.pk)
    assert event.data["previous_id"] == str(colleague.pk)


def assert_unchanged(inquiry, *, assignee=None, status="received"):
    inquiry.refresh_from_db()
    assert inquiry.assigned_to_id == (assignee.pk if assignee else None)
    assert inquiry.status == status


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("assignee_without_the_role", "not_in_role"),
        ("someone_changed_it_meanwhile", "changed"),
        ("already_theirs", "unchanged"),
        ("unassign_nobody", "unchanged"),
        ("by_someone_outside_the_queue", "not_yours"),
    ],
)
def test_it_refuses_an_assignment_nobody_may_make_and_changes_nothing(
    agent, colleague, dpo, question, case, code
):
    if case in ("someone_changed_it_meanwhile", "already_theirs"):
        inquiry_assign(inquiry=question, by=agent, assignee_id=colleague.pk, seen_assignee_id=None)
    before = AuditEvent.objects.count()
    kwargs = {
        "assignee_without_the_role": {"by": agent, "assignee_id": dpo.pk, "seen_assignee_id": None},
        # Agent saw nobody handling it; meanwhile the colleague took it.
        "someone_changed_it_meanwhile": {
            "by": agent,
            "assignee_id": agent.pk,
            "seen_assignee_id": None,
        },
        "already_theirs": {
            "by": agent,
            "assignee_id": colleague.pk,
            "seen_assignee_id": colleague.pk,
        },
        "unassign_nobody": {"by": agent, "assignee_id": None, "seen_assignee_id": None},
        "by_someone_outside_the_queue": {
            "by": dpo,
            "assignee_id": dpo.pk,
            "seen_assignee_id": None,
        },
    }[case]
    with pytest.raises(ApplicationError) as raised:
        inquiry_assign(inquiry=question, **kwargs)
    assert code in raised.value.extra.values()
    assert AuditEvent.objects.count() == before
    assigned = colleague if case in ("someone_changed_it_meanwhile", "already_theirs") else None
    assert_unchanged(question, assignee=assigned)


def test_it_marks_a_message_answered_then_closed_and_audits_each(dpo, complaint):
    inquiry_status_set(inquiry=complaint, by=dpo, status="answered")
    inquiry_status_set(inquiry=complaint, by=dpo, status="closed")
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    first, second = events(ContactCode.INQUIRY_STATUS_CHANGED)
    assert first.purpose == "data_subject_rights" and first.actor_id == str(dpo.pk)
    assert (first.data["previous"], first.data["status"]) == ("received", "answered")
    assert (second.data["previous"], second.data["status"]) == ("answered", "closed")


@pytest.mark.parametrize(("status", "code"), [("received", "unchanged"), ("spam", "invalid")])
def test_it_refuses_a_status_the_message_has_or_that_does_not_exist(agent, question, status, code):
    with pytest.raises(ApplicationError) as raised:
        inquiry_status_set(inquiry=question, by=agent, status=status)
    assert raised.value.extra == {"status": code}
    assert events(ContactCode.INQUIRY_STATUS_CHANGED) == []


def test_it_refuses_a_status_change_by_staff_outside_the_queue(dpo, question):
    with pytest.raises(ApplicationError):
        inquiry_status_set(inquiry=question, by=dpo, status="closed")
    assert_unchanged(question)


# -- through the pages --------------------------------------------------------------------


# A message's page and its actions are the support app's ticket page.
PAGES = {"message": "ticket", "assign": "ticket_assign", "status": "ticket_status"}


def page_url(queue, page, inquiry):
    return reverse(f"support:staff_{queue}_{PAGES[page]}", args=[inquiry.pk])


def test_it_assigns_to_me_from_the_message_page(client, agent, question):
    client.force_login(agent)
    page = client.get(page_url("support", "message", question))
    assert "Assign to me" in page.text
    response = client.post(
        page_url("support", "assign", question), {"assignee": str(agent.pk), "seen": ""}
    )
    assert response.status_code == 303
    assert response["Location"] == page_url("support", "message", question) + "?done=assigned"
    page = client.get(response["Location"])
    assert "sam, since" in page.text
    assert "Assign to me" not in page.text
    assert len(events(ContactCode.INQUIRY_ASSIGNED)) == 1


def test_it_says_so_when_someone_took_the_message_meanwhile(client, agent, colleague, question):
    inquiry_assign(inquiry=question, by=colleague, assignee_id=colleague.pk, seen_assignee_id=None)
    client.force_login(agent)
    response = client.post(
        page_url("support", "assign", question), {"assignee": str(agent.pk), "seen": ""}
    )
    assert response.status_code == 400
    assert "Someone changed who handles this message meanwhile" in response.text
    assert "sue, since" in response.text
    assert_unchanged(question, assignee=colleague)


def test_it_refuses_to_give_a_support_message_to_the_dpo_from_the_page(
    client, agent, dpo, question
):
    client.force_login(agent)
    response = client.post(
        page_url("support", "assign", question), {"assignee": str(dpo.pk), "seen": ""}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert_unchanged(question)


def test_it_closes_a_message_from_the_page(client, dpo, complaint):
    client.force_login(dpo)
    response = client.post(page_url("dpo", "status", complaint), {"status": "closed"})
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert 'data-done="closed"' in page.text and "Reopen" in page.text
    assert_unchanged(complaint, status="closed")

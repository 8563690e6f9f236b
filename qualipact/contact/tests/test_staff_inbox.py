"""Each queue's inbox and message page: a support agent sees the support queue only, and
only the fields declared for customer support; the DPO the DPO's queue; every opening of
a message is one recorded staff view, and the list decrypts nothing."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PERSONAS, submit_persona
from qualipact.contact.queues import QUEUES
from qualipact.contact.selectors import queue_fields
from qualipact.contact.tests.conftest import staff_member
from qualipact.privacy.audit import EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

SUPPORT_INBOX = reverse("contact:staff_support_inbox")
DPO_INBOX = reverse("contact:staff_dpo_inbox")


def message_url(queue, inquiry):
    # A message's page is the support app's ticket page.
    return reverse(f"support:staff_{queue}_ticket", args=[inquiry.pk])


def views_of(inquiry):
    return list(
        AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED, subject_id=inquiry.subject_id)
    )


def test_it_lists_only_the_support_queue_to_a_support_agent(client, agent, question, complaint):
    client.force_login(agent)
    response = client.get(SUPPORT_INBOX)
    assert response.status_code == 200
    assert f'data-inquiry="{question.pk}"' in response.text
    assert f'data-inquiry="{complaint.pk}"' not in response.text
    assert question.reference in response.text and "General question" in response.text
    # The DPO's messages are not the agent's to see.
    assert client.get(DPO_INBOX).status_code == 403


def test_it_lists_only_the_dpo_queue_to_the_dpo(client, dpo, question, complaint):
    client.force_login(dpo)
    response = client.get(DPO_INBOX)
    assert response.status_code == 200
    assert f'data-inquiry="{complaint.pk}"' in response.text
    assert f'data-inquiry="{question.pk}"' not in response.text
    assert client.get(SUPPORT_INBOX).status_code == 403


def test_it_decrypts_nothing_on_the_list(client, agent, question):
    client.force_login(agent)
    response = client.get(SUPPORT_INBOX)
    for name in ("name", "email", "subject_line", "message"):
        assert PERSONAS["alice"][name] not in response.text
    assert views_of(question) == []


@pytest.mark.parametrize("queue", ["support", "dpo"])
def test_it_answers_404_for_a_message_of_another_queue_even_by_a_crafted_url(
    client, agent, dpo, question, complaint, queue
):
    """The crafted URL puts the other queue's message under the page the person may open."""
    person, foreign = (agent, complaint) if queue == "support" else (dpo, question)
    client.force_login(person)
    for page in ("ticket", "ticket_assign", "ticket_status"):
        url = reverse(f"support:staff_{queue}_{page}", args=[foreign.pk])
        response = (
            client.get(url)
            if page == "ticket"
            else client.post(url, {"status": "closed", "assignee": str(person.pk), "seen": ""})
        )
        assert response.status_code == 404, page
    assert views_of(foreign) == []
    foreign.refresh_from_db()
    assert foreign.status == "received" and foreign.assigned_to is None


def test_it_shows_a_support_agent_only_the_fields_declared_for_customer_support(
    client, agent, question
):
    client.force_login(agent)
    response = client.get(message_url("support", question))
    assert response.status_code == 200
    alice = PERSONAS["alice"]
    for name in ("name", "email", "phone", "subject_line", "message"):
        assert alice[name] in response.text, name
    # Declared for answering rights requests only: the DPO's, not support's.
    assert alice["postal_address"] not in response.text
    assert 'data-field="postal_address"' not in response.text
    assert "no-store" in response["Cache-Control"]


def test_it_writes_exactly_one_access_event_naming_the_fields_shown(client, agent, question):
    client.force_login(agent)
    client.get(message_url("support", question))
    [event] = views_of(question)
    assert event.actor_kind == "staff" and event.actor_id == str(agent.pk)
    assert event.purpose == "customer_support"
    assert event.data == {
        "role": "support_agent",
        "model": "contact.Inquiry",
        "fields": ["email", "message", "name", "phone", "subject_line"],
        "records": 1,
    }


def test_it_shows_the_dpo_every_field_declared_for_rights_requests(client, dpo):
    complaint = submit_persona("alice", kind="complaint")
    client.force_login(dpo)
    response = client.get(message_url("dpo", complaint))
    assert PERSONAS["alice"]["postal_address"] in response.text
    [event] = views_of(complaint)
    assert event.purpose == "data_subject_rights" and event.data["role"] == "dpo"
    assert event.data["fields"] == sorted(
        ["name", "email", "phone", "postal_address", "subject_line", "message"]
    )


def test_it_takes_the_fields_of_each_queue_from_the_registry():
    support = {spec.name for spec in queue_fields(QUEUES["support"])}
    dpo = {spec.name for spec in queue_fields(QUEUES["dpo"])}
    assert support == {"name", "email", "phone", "subject_line", "message"}
    assert dpo == support | {"postal_address"}
    # The email lookup code is a secret: never on a page.
    assert "email_index" not in support | dpo


def test_it_records_an_empty_optional_field_as_not_viewed(client, dpo, complaint):
    client.force_login(dpo)
    response = client.get(message_url("dpo", complaint))
    assert "not given" in response.text  # Bob gave no phone and no address
    [event] = views_of(complaint)
    assert "phone" not in event.data["fields"] and "postal_address" not in event.data["fields"]


def list_queries(client, url):
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["keys"]) as keys,
    ):
        assert client.get(url).status_code == 200
    return len(default), len(keys)


def test_it_lists_the_inbox_in_a_fixed_number_of_queries(client, agent, colleague):
    submit_persona("alice")
    client.force_login(agent)
    client.get(SUPPORT_INBOX)  # warm the session and the role cache of the first request
    few = list_queries(client, SUPPORT_INBOX)
    for index in range(12):
        inquiry = submit_persona("bob")
        if index % 2:
            inquiry.assigned_to = colleague if index % 4 == 1 else agent
            inquiry.save(update_fields=["assigned_to"])
    many = list_queries(client, SUPPORT_INBOX)
    assert many == few
    assert few[1] == 0  # no key is unwrapped: nothing is decrypted
    assert few[0] <= 8


def test_it_pages_the_inbox_and_keeps_the_filters(client, agent, monkeypatch):
    from qualipact.contact import selectors

    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 2)
    inquiries = [submit_persona("alice") for _ in range(3)]
    client.force_login(agent)
    first = client.get(SUPPORT_INBOX, {"show": "unassigned"})
    assert first.text.count("data-inquiry=") == 2
    assert "?show=unassigned&amp;page=2" in first.text
    second = client.get(SUPPORT_INBOX, {"show": "unassigned", "page": 2})
    assert second.text.count("data-inquiry=") == 1
    assert f'data-inquiry="{inquiries[0].pk}"' in second.text  # the oldest, last


def test_it_filters_unassigned_mine_and_status(client, agent, colleague):
    mine, theirs, nobodys, closed = (submit_persona("alice") for _ in range(4))
    for inquiry, who in ((mine, agent), (theirs, colleague), (closed, agent)):
        inquiry.assigned_to = who
        inquiry.save(update_fields=["assigned_to"])
    closed.status = "closed"
    closed.save(update_fields=["status"])
    client.force_login(agent)

    def listed(**query):
        text = client.get(SUPPORT_INBOX, query).text
        return {i for i in (mine, theirs, nobodys, closed) if f'data-inquiry="{i.pk}"' in text}

    assert listed() == {mine, theirs, nobodys}
    assert listed(show="mine") == {mine}
    assert listed(show="unassigned") == {nobodys}
    assert listed(status="closed") == {closed}
    assert listed(show="mine", status="all") == {mine, closed}
    # An unknown filter is said so beside its field, and the default applies.
    response = client.get(SUPPORT_INBOX, {"show": "everything"})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert listed(show="everything") == {mine, theirs, nobodys}


def test_it_counts_what_waits_on_the_console(client, agent, colleague, dpo, complaint):
    mine, theirs, _nobodys, _other = (submit_persona("alice") for _ in range(4))
    mine.assigned_to = agent
    mine.save(update_fields=["assigned_to"])
    theirs.assigned_to = colleague
    theirs.save(update_fields=["assigned_to"])
    done = submit_persona("alice")
    done.status = "closed"
    done.save(update_fields=["status"])  # closed: waits for nobody

    client.force_login(agent)
    console = client.get("/staff/").text
    assert 'data-console-page="contact:staff_support_inbox"' in console
    assert 'data-console-page="contact:staff_dpo_inbox"' not in console
    assert "<strong>2</strong> unassigned" in console
    assert "<strong>1</strong> assigned to you" in console
    assert f'href="{SUPPORT_INBOX}?show=unassigned"' in console

    client.force_login(dpo)
    console = client.get("/staff/").text
    assert 'data-console-page="contact:staff_dpo_inbox"' in console
    assert 'data-console-page="contact:staff_support_inbox"' not in console
    assert "<strong>1</strong> unassigned" in console
    assert "<strong>0</strong> assigned to you" in console


def test_it_lets_someone_holding_both_roles_read_each_queue_in_its_own_role(client):
    both = staff_member("bea", Role.SUPPORT_AGENT, Role.DPO)
    question, complaint = submit_persona("alice"), submit_persona("bob", kind="complaint")
    client.force_login(both)
    client.get(message_url("support", question))
    client.get(message_url("dpo", complaint))
    assert views_of(question)[0].data["role"] == "support_agent"
    assert views_of(complaint)[0].data["role"] == "dpo"

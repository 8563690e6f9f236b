"""The contact form's side of a ticket: the country that names a complainant's supervisory
authority, and a thanks page that says what truly happens next."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from conftest import PERSONAS, run_deferred
from qualipact.comms.models import OutboundEmail
from qualipact.contact.models import Inquiry
from qualipact.support.models import Complaint

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def sent(client, kind: str, country: str):
    data = {**PERSONAS["alice"], "kind": kind, "country": country}
    response = client.post(reverse("contact:inquiry"), data)
    assert response.status_code in (302, 303), response.status_code
    run_deferred()
    return Inquiry.objects.get()


def test_it_asks_for_the_country_optionally_and_lists_the_authorities(client):
    page = client.get(reverse("contact:inquiry"))
    assert 'name="country"' in page.text
    assert "Country you live in (optional)" in page.text
    assert "Kept only with complaints" in page.text
    assert "https://www.cnil.fr" in page.text  # the table, readable without JavaScript
    assert "<details>" in page.text  # folded away for other kinds
    complaint = client.get(reverse("contact:inquiry") + "?kind=complaint")
    assert "<details open>" in complaint.text


def test_it_keeps_the_country_of_a_complaint_and_names_its_authority_by_email(client):
    inquiry = sent(client, "complaint", "FR")
    assert Complaint.objects.get(inquiry=inquiry).country == "FR"
    [email] = OutboundEmail.objects.filter(subject_id=inquiry.subject_id)
    assert inquiry.reference in email.subject_line
    assert "CNIL" in email.body and "https://www.cnil.fr" in email.body
    assert "/support/link/" in email.body


def test_it_keeps_no_country_with_a_general_question(client):
    inquiry = sent(client, "general", "FR")
    assert inquiry.kind == "general"
    assert not Complaint.objects.exists()  # the one place a country is kept


def test_it_refuses_a_country_not_on_the_list(client):
    data = {**PERSONAS["alice"], "kind": "complaint", "country": "XX"}
    response = client.post(reverse("contact:inquiry"), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.text


# What the thanks page says happens next, by the kind sent: (kind, its paragraph's start).
NEXT = {
    "general": "Your question is answered by our support team",
    "privacy": "Your privacy request is read only by our Data Protection Officer",
    "complaint": "Your complaint goes to our Data Protection Officer",
}


def next_steps(page) -> str:
    """The text of the thanks page's "What happens next", on one line."""
    section = page.text.split("data-next-steps", 1)[1].split("</div>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", "", section.split(">", 1)[1]).split())


@pytest.mark.parametrize("kind", sorted(NEXT))
def test_it_says_what_happens_next_for_the_kind_sent_only(client, kind):
    data = {**PERSONAS["alice"], "kind": kind}
    response = client.post(reverse("contact:inquiry"), data)
    assert response.status_code == 303
    assert response["Location"] == f"{reverse('contact:thanks')}?{kind}=1"
    assert response.cookies == {}
    page = client.get(response["Location"])
    said = next_steps(page)
    assert said.startswith(NEXT[kind])
    for other in set(NEXT) - {kind}:
        assert NEXT[other] not in said
    assert "straight to our Data Protection Officer" not in page.text
    assert "reference" in page.text and "link" in page.text
    assert page.cookies == {}


@pytest.mark.parametrize("query", ["", "?kind=sales", "?complaint=yes", "?website=1"])
def test_it_says_what_happens_next_in_general_without_a_known_kind(client, query):
    page = client.get(reverse("contact:thanks") + query)
    assert page.status_code == 200
    said = next_steps(page)
    assert said.startswith("We answer you by email")
    assert not any(paragraph in said for paragraph in NEXT.values())


def test_it_tells_a_bot_filling_the_honeypot_the_same_as_a_person(client):
    data = {**PERSONAS["alice"], "kind": "privacy", "website": "http://spam.example"}
    response = client.post(reverse("contact:inquiry"), data)
    assert response["Location"] == f"{reverse('contact:thanks')}?privacy=1"
    run_deferred()
    assert not Inquiry.objects.exists()


def test_it_sends_a_tickets_emails_for_its_queues_purpose():
    """`ticket_email` names its purpose as literals (the outbox test reads them); they are
    the queues' own."""
    from qualipact.contact.queues import QUEUES

    assert {rule.purpose for rule in QUEUES.values()} == {"customer_support", "data_subject_rights"}
    assert QUEUES["dpo"].purpose == "data_subject_rights"

"""The contact form's side of a ticket: the country that names a complainant's supervisory
authority, and a thanks page that says what truly happens next."""

from __future__ import annotations

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


def test_it_says_what_happens_next_without_claiming_everything_goes_to_the_dpo(client):
    page = client.get(reverse("contact:thanks"))
    assert "straight to our Data Protection Officer" not in page.text
    assert "reference" in page.text and "link" in page.text
    for kind in ("A general question", "A privacy request", "A complaint"):
        assert kind in page.text
    assert page.cookies == {}


def test_it_sends_a_tickets_emails_for_its_queues_purpose():
    """`ticket_email` names its purpose as literals (the outbox test reads them); they are
    the queues' own."""
    from qualipact.contact.queues import QUEUES

    assert {rule.purpose for rule in QUEUES.values()} == {"customer_support", "data_subject_rights"}
    assert QUEUES["dpo"].purpose == "data_subject_rights"

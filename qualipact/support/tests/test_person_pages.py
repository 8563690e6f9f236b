"""The person's support pages: their messages signed in, and a message opened from an
emailed link without an account (single use, expiring, a visit carried in forms)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PERSONAS, account_for
from qualipact.accounts.models import User
from qualipact.comms.models import OutboundEmail
from qualipact.contact.models import Inquiry
from qualipact.privacy.models import AuditEvent
from qualipact.support.events import SupportCode
from qualipact.support.models import Feedback, InternalNote, TicketLink, TicketMessage
from qualipact.support.services.tickets import ticket_open

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

LINK = re.compile(r"https?://[^/\s]+(/support/link/[^/\s]+/)")


def account_of(name: str) -> User:
    """The persona's account (username: the persona's name), created the first time."""
    return User.objects.filter(username=name).first() or account_for(name)


def ticket(
    persona: str = "alice", *, kind: str = "general", country: str = "", sent_signed_in=False
) -> Inquiry:
    """A ticket opened as the contact form's background work opens one (acknowledged):
    typed in by a visitor with the persona's address, or `sent_signed_in` to the
    persona's account (for its subject and address)."""
    if not sent_signed_in:
        return ticket_open(kind=kind, country=country, **PERSONAS[persona])
    account = account_of(persona)
    return ticket_open(
        kind=kind,
        country=country,
        **{**PERSONAS[persona], "email": account.email},
        account_subject_id=account.subject_id,
    )


def emailed_link(inquiry: Inquiry) -> str:
    """The path of the latest link emailed about `inquiry`."""
    bodies = [
        email.body
        for email in OutboundEmail.objects.filter(subject_id=inquiry.subject_id).order_by(
            "created_at"
        )
        if f"[{inquiry.reference}]" in email.subject_line
    ]
    return LINK.findall(bodies[-1])[-1]


def answer(inquiry: Inquiry, text: str = "Your invoice is attached to this email.") -> None:
    """Staff answered (as the staff side does: the answer in the thread, status answered)."""
    TicketMessage.objects.create(
        inquiry=inquiry, subject_id=inquiry.subject_id, kind=TicketMessage.Kind.ANSWER, body=text
    )
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Inquiry.Status.ANSWERED)


def visit_token(response) -> str:
    return re.search(r'name="visit" value="([^"]+)"', response.text).group(1)


def form_key(response) -> str:
    return re.search(r'name="form_key" value="([^"]*)"', response.text).group(1)


def signed_in(name: str = "alice") -> Client:
    client = Client()
    client.force_login(account_of(name))
    return client


# -- signed in ---------------------------------------------------------------------------


def test_it_lists_the_signed_in_persons_own_tickets_only():
    mine = ticket("alice", sent_signed_in=True)
    theirs = ticket("bob", kind="privacy", sent_signed_in=True)
    client = signed_in("alice")
    response = client.get(reverse("support:tickets"))
    assert response.status_code == 200
    assert mine.reference in response.text
    assert PERSONAS["alice"]["subject_line"] in response.text
    assert theirs.reference not in response.text
    assert PERSONAS["bob"]["subject_line"] not in response.text


def test_it_sends_an_anonymous_visitor_to_sign_in(client):
    inquiry = ticket()
    for url in (
        reverse("support:tickets"),
        reverse("support:ticket", args=[inquiry.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert response.cookies == {}


def test_it_links_your_messages_from_the_header_and_the_account_page():
    client = signed_in("alice")
    account = client.get(reverse("accounts:home"))
    assert account.text.count(f'href="{reverse("support:tickets")}"') == 2


def test_it_shows_the_owner_the_thread_without_internal_notes():
    inquiry = ticket("alice", sent_signed_in=True)
    answer(inquiry)
    InternalNote.objects.create(
        inquiry=inquiry, subject_id=inquiry.subject_id, body="Customer seems upset, be kind"
    )
    response = signed_in("alice").get(reverse("support:ticket", args=[inquiry.pk]))
    assert response.status_code == 200
    assert PERSONAS["alice"]["message"] in response.text
    assert "Your invoice is attached to this email." in response.text
    assert "Customer seems upset" not in response.text
    assert "Internal note" not in response.text


def test_it_answers_not_found_for_another_persons_ticket_and_a_made_up_one():
    bobs = ticket("bob", kind="privacy", sent_signed_in=True)
    client = signed_in("alice")
    for ticket_id in (bobs.pk, "00000000-0000-4000-8000-000000000000"):
        for name in ("support:ticket",):
            response = client.get(reverse(name, args=[ticket_id]))
            assert response.status_code == 404
            assert PERSONAS["bob"]["message"] not in response.text
        for name, data in (
            ("support:ticket_reply", {"body": "Sneaking in"}),
            ("support:ticket_rate", {"score": "1"}),
        ):
            assert client.post(reverse(name, args=[ticket_id]), data).status_code == 404
    assert not TicketMessage.objects.exists()
    assert not Feedback.objects.exists()
    refused = AuditEvent.objects.filter(code=SupportCode.TICKET_FOR_OTHER_REFUSED)
    assert refused.count() == 6
    assert {event.subject_id for event in refused} == {bobs.subject_id, None}


def test_it_keeps_a_ticket_typed_in_with_the_persons_address_off_their_pages():
    """Anyone may type Alice's address into the contact form: that proves nothing about who
    wrote, so the ticket is not on Alice's pages (nor can she reply or rate there), though
    it is her address's, and its emailed link still opens it."""
    alice = account_of("alice")
    mine = ticket("alice", sent_signed_in=True)
    typed = ticket("alice", kind="privacy")  # by a visitor, not signed in
    assert typed.subject_id == alice.subject_id
    assert (mine.sent_signed_in, typed.sent_signed_in) == (True, False)
    answer(typed)
    client = signed_in("alice")
    listing = client.get(reverse("support:tickets"))
    assert mine.reference in listing.text
    assert typed.reference not in listing.text
    assert listing.text.count("data-ticket=") == 1
    assert client.get(reverse("support:ticket", args=[typed.pk])).status_code == 404
    for name, data in (
        ("support:ticket_reply", {"body": "Sneaking in"}),
        ("support:ticket_rate", {"score": "1"}),
    ):
        assert client.post(reverse(name, args=[typed.pk]), data).status_code == 404
    assert not TicketMessage.objects.filter(kind=TicketMessage.Kind.SITE_IN).exists()
    assert not Feedback.objects.exists()
    refused = AuditEvent.objects.filter(code=SupportCode.TICKET_FOR_OTHER_REFUSED)
    assert refused.count() == 3
    # Reached as before by whoever holds the address's mail: its link, without an account.
    opened = Client().get(emailed_link(typed))
    assert opened.status_code == 200
    assert PERSONAS["alice"]["message"] in opened.text


def test_it_says_on_your_messages_that_a_message_sent_without_signing_in_is_not_there():
    ticket("alice")
    page = signed_in("alice").get(reverse("support:tickets"))
    assert "data-no-tickets" in page.text
    assert "not listed here, even from your account" in page.text


def test_it_takes_a_reply_on_the_site_once_and_reopens_the_ticket():
    inquiry = ticket("alice", sent_signed_in=True)
    answer(inquiry)
    client = signed_in("alice")
    page = client.get(reverse("support:ticket", args=[inquiry.pk]))
    data = {"body": "Thank you, but the attachment is missing.", "form_key": form_key(page)}
    url = reverse("support:ticket_reply", args=[inquiry.pk])
    first = client.post(url, data)
    assert first.status_code == 303
    assert first["Location"] == reverse("support:ticket", args=[inquiry.pk]) + "?replied=1"
    assert client.post(url, data).status_code == 303  # a reload: kept once
    [reply] = TicketMessage.objects.filter(kind=TicketMessage.Kind.SITE_IN)
    assert reply.body == data["body"]
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.RECEIVED
    shown = client.get(first["Location"])
    assert "Your reply was added" in shown.text
    assert data["body"] in shown.text


def test_it_refuses_an_empty_reply_with_a_sentence():
    inquiry = ticket("alice", sent_signed_in=True)
    client = signed_in("alice")
    response = client.post(reverse("support:ticket_reply", args=[inquiry.pk]), {"body": "  "})
    assert response.status_code == 400
    assert "Write your reply first." in response.text
    assert not TicketMessage.objects.exists()


def test_it_offers_the_rating_only_once_the_ticket_is_answered():
    inquiry = ticket("alice", sent_signed_in=True)
    client = signed_in("alice")
    url = reverse("support:ticket", args=[inquiry.pk])
    assert "Rate our answer" not in client.get(url).text
    refused = client.post(reverse("support:ticket_rate", args=[inquiry.pk]), {"score": "5"})
    assert refused.status_code == 400
    assert "once we have answered" in refused.text
    # Marked answered or closed without an answer of ours, there is still nothing to rate.
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Inquiry.Status.CLOSED)
    assert "Rate our answer" not in client.get(url).text
    answer(inquiry)
    assert "Rate our answer" in client.get(url).text
    # A reply of the person's after our answer leaves the answer there to rate.
    client.post(reverse("support:ticket_reply", args=[inquiry.pk]), {"body": "One more thing"})
    page = client.get(url).text
    assert 'data-status="received"' in page and "Rate our answer" in page
    rated = client.post(reverse("support:ticket_rate", args=[inquiry.pk]), {"score": "4"})
    assert rated.status_code == 303 and Feedback.objects.get().score == 4


@pytest.mark.parametrize("score", ["0", "6", "five", ""])
def test_it_refuses_a_rating_outside_1_to_5_and_keeps_what_was_typed(score):
    inquiry = ticket("alice", sent_signed_in=True)
    answer(inquiry)
    client = signed_in("alice")
    response = client.post(
        reverse("support:ticket_rate", args=[inquiry.pk]),
        {"score": score, "comment": "Quick but incomplete"},
    )
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.text
    assert "Quick but incomplete" in response.text
    assert not Feedback.objects.exists()


def test_it_keeps_a_rating_and_replaces_it_when_rated_again():
    inquiry = ticket("alice", sent_signed_in=True)
    answer(inquiry)
    client = signed_in("alice")
    url = reverse("support:ticket_rate", args=[inquiry.pk])
    response = client.post(url, {"score": "2", "comment": "Slow"})
    assert response.status_code == 303
    assert response["Location"].endswith("?rated=1")
    client.post(url, {"score": "4", "comment": "Better after all"})
    [feedback] = Feedback.objects.all()
    assert (feedback.score, feedback.comment) == (4, "Better after all")
    events = AuditEvent.objects.filter(code=SupportCode.FEEDBACK_GIVEN)
    assert [event.data["score"] for event in events.order_by("id")] == [2, 4]
    assert all("Better" not in str(event.data) for event in events)
    page = client.get(response["Location"])
    assert "You rated our answer 4 out of 5" in page.text


def test_it_shows_a_complaints_deadlines_and_the_authority_of_its_country():
    inquiry = ticket("alice", kind="complaint", country="FR", sent_signed_in=True)
    response = signed_in("alice").get(reverse("support:ticket", args=[inquiry.pk]))
    assert "Your complaint" in response.text
    assert "confirms they are looking into it by" in response.text
    assert "(CNIL)" in response.text
    assert "https://www.cnil.fr" in response.text


def test_it_names_the_edpb_list_for_a_complaint_without_a_country():
    inquiry = ticket("alice", kind="complaint", sent_signed_in=True)
    response = signed_in("alice").get(reverse("support:ticket", args=[inquiry.pk]))
    assert "European Data Protection Board" in response.text
    assert "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en" in response.text


# -- from an emailed link ------------------------------------------------------------------


def test_it_opens_a_ticket_once_from_its_emailed_link_without_a_cookie(client):
    inquiry = ticket("alice", kind="complaint", country="FR")
    InternalNote.objects.create(
        inquiry=inquiry, subject_id=inquiry.subject_id, body="Escalate to legal"
    )
    link = emailed_link(inquiry)
    first = client.get(link)
    assert first.status_code == 200
    assert first.cookies == {}
    assert PERSONAS["alice"]["message"] in first.text
    assert "Escalate to legal" not in first.text
    assert "CNIL" in first.text
    again = client.get(link)
    assert again.status_code == 410
    assert "Email me a new link" in again.text
    assert PERSONAS["alice"]["message"] not in again.text
    assert PERSONAS["alice"]["email"] not in again.text
    assert again.cookies == {}


def test_it_refuses_an_expired_link_and_offers_a_new_one(client):
    inquiry = ticket("alice")
    link = emailed_link(inquiry)
    TicketLink.objects.filter(inquiry=inquiry).update(expires_at=timezone.now())
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.text
    assert "Email me a new link" in response.text


def test_it_answers_an_unknown_link_in_words(client):
    response = client.get(reverse("support:ticket_link", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "not one of ours" in response.text
    assert client.post(reverse("support:ticket_link", args=["nope"])).status_code == 404


def test_it_does_not_spend_a_link_on_head(client):
    inquiry = ticket("alice")
    link = emailed_link(inquiry)
    assert client.head(link).status_code == 405
    assert client.get(link).status_code == 200


def test_it_takes_a_reply_and_a_rating_during_a_visit(client):
    inquiry = ticket("alice")
    answer(inquiry)
    page = client.get(emailed_link(inquiry))
    token = visit_token(page)
    data = {"visit": token, "body": "It worked, thanks!", "form_key": form_key(page)}
    replied = client.post(reverse("support:visit_reply"), data)
    assert replied.status_code == 200
    assert "Your reply was added" in replied.text
    # The page shows the ticket as the reply left it: open again for us...
    assert 'data-status="received"' in replied.text
    assert client.post(reverse("support:visit_reply"), data).status_code == 200  # a reload
    assert TicketMessage.objects.filter(kind=TicketMessage.Kind.SITE_IN).count() == 1
    assert replied.cookies == {}
    # ...and the answer already given can still be rated while the reply waits.
    assert "Rate our answer" in replied.text
    rated = client.post(reverse("support:visit_rate"), {"visit": token, "score": "5"})
    assert rated.status_code == 200
    assert "Thank you for rating" in rated.text
    assert Feedback.objects.get().score == 5


def test_it_keeps_the_rating_forms_input_during_a_visit_when_it_is_refused(client):
    inquiry = ticket("alice")
    answer(inquiry)
    token = visit_token(client.get(emailed_link(inquiry)))
    response = client.post(
        reverse("support:visit_rate"), {"visit": token, "score": "9", "comment": "Meh"}
    )
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.text
    assert "Meh" in response.text
    assert visit_token(response) == token


def test_it_ends_a_visit_after_its_time_and_shows_back_what_was_typed(client):
    inquiry = ticket("alice")
    token = visit_token(client.get(emailed_link(inquiry)))
    TicketLink.objects.filter(kind=TicketLink.Kind.VISIT).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.post(
        reverse("support:visit_reply"), {"visit": token, "body": "Are you there?"}
    )
    assert response.status_code == 403
    assert "open too long" in response.text
    assert "Are you there?" in response.text
    assert not TicketMessage.objects.exists()
    # A made-up visit (an altered page) is told apart from an ended one, for both forms.
    for form, data in (("visit_reply", {"body": "Hi"}), ("visit_rate", {"score": "5"})):
        forged = client.post(reverse(f"support:{form}"), {"visit": "made-up", **data})
        assert forged.status_code == 403
        assert "not one we gave you" in forged.text and "open too long" not in forged.text
    assert not TicketMessage.objects.exists() and not Feedback.objects.exists()


def test_it_emails_a_fresh_link_at_most_once_in_ten_minutes_per_ticket(client):
    inquiry = ticket("alice")
    link = emailed_link(inquiry)
    client.get(link)
    before = OutboundEmail.objects.count()
    sent = client.post(link)
    assert sent.status_code == 303
    assert sent["Location"] == reverse("support:link_sent")
    assert OutboundEmail.objects.count() == before + 1
    fresh = emailed_link(inquiry)
    assert fresh != link
    recent = client.post(link)
    assert recent["Location"] == reverse("support:link_sent") + "?recent=1"
    assert OutboundEmail.objects.count() == before + 1
    page = client.get(recent["Location"])
    assert "already on its way" in page.text
    assert PERSONAS["alice"]["email"] not in page.text
    assert AuditEvent.objects.filter(code=SupportCode.LINK_SENT).count() == 1
    # Ten minutes on, asking again sends again; the fresh link opens the ticket.
    cache.clear()
    assert client.post(link).status_code == 303
    assert OutboundEmail.objects.count() == before + 2
    assert client.get(fresh).status_code == 200


def test_it_lists_tickets_in_the_same_number_of_queries_however_many(
    django_assert_max_num_queries,
):
    ticket("alice", sent_signed_in=True)
    client = signed_in("alice")
    client.get(reverse("support:tickets"))  # the session and the key, once
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("support:tickets"))
    for _ in range(4):
        ticket("alice", kind="privacy", sent_signed_in=True)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("support:tickets"))
    assert response.text.count("data-ticket=") == 5

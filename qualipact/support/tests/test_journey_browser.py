"""The whole support journey, as the people in it live it, in a real browser with real
mail both ways: a visitor asks a question through the contact form reached from the home
page and gets the acknowledgement with its reference; a support agent signs in with an
authenticator app, finds the ticket in the Support inbox and answers it; the answer
reaches the visitor by SMTP with the ticket's own Reply-To; the visitor replies from
their mail program, quoting the answer, to the development mailbox (a real SMTP server,
`manage.py mailbox_serve`); the agent sees the reply in the ticket and answers again;
the visitor follows that answer's link, sees the whole conversation (their question,
both answers, their emailed reply without the quoted history) and rates the answer; the
agent sees the rating on the ticket."""

from __future__ import annotations

import re
import smtplib
from urllib.parse import urlsplit

import pytest

from conftest import (
    PERSONAS,
    browser_context,
    browser_launch,
    contact_form_send,
    deliver_queued,
    watch,
)
from qualipact.accounts.tests.test_browser_accounts import off_loop
from qualipact.contact.models import Inquiry
from qualipact.contact.tests.conftest import staff_sign_in
from qualipact.support.models import Feedback, TicketMessage
from qualipact.support.tests.conftest import reply_email
from qualipact.support.tests.staff_helpers import staff_member
from qualipact.web.roles import Role

ALICE = PERSONAS["alice"]
AGENT_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ANSWER = "We have resent your March invoice; it should reach you within the hour."
SECOND_ANSWER = "The April invoice is on its way too."
EMAILED_REPLY = "It arrived, thank you. Could you also send the one for April?"


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


def unfolded(header) -> str:
    """A header's value on one line (RFC 5322 §2.2.3)."""
    return "".join(str(header).split())


# transaction=True: the live server and the mailbox process read what the test committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_carries_a_question_from_the_contact_form_to_an_answer_and_an_emailed_reply(
    live_server, chromium_path, smtp, support_mailbox, settings
):
    from playwright.sync_api import expect, sync_playwright

    settings.SITE_URL = live_server.url
    staff_member("sam", Role.SUPPORT_AGENT, totp_secret=AGENT_SECRET)
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- a visitor asks a question, from the home page -----------------------------
            visitor = browser_context(browser)
            page = visitor.new_page()
            watch(page, requests, console_errors)
            contact_form_send(
                page,
                base,
                kind="general",
                fields={f: ALICE[f] for f in ("name", "email", "subject_line", "message")},
            )
            next_steps = page.locator("[data-next-steps]")
            expect(next_steps).to_contain_text("Your question is answered by our support team")
            expect(next_steps).not_to_contain_text("Data Protection Officer")
            assert visitor.cookies() == []
            visitor.close()

            # -- the acknowledgement arrives with the reference -------------------------
            off_loop(deliver_queued)
            ticket = off_loop(Inquiry.objects.get)
            [acknowledgement] = smtp.messages
            assert acknowledgement["To"] == ALICE["email"]
            assert acknowledgement["Subject"].startswith(f"[{ticket.reference}] ")
            assert ticket.reference in body_of(acknowledgement)
            assert "support team will answer you by email" in body_of(acknowledgement)

            # -- the support agent finds it in the inbox and answers ----------------------
            staff = browser_context(browser)
            page = staff.new_page()
            watch(page, requests, console_errors)
            staff_sign_in(page, base, "sam", AGENT_SECRET)
            page.locator("[data-nav-staff]").get_by_text("Staff console").click()
            page.wait_for_url(base + "/staff/")
            page.locator('[data-console-page="contact:staff_support_inbox"]').get_by_role(
                "link", name="Support inbox"
            ).click()
            page.wait_for_url(base + "/staff/support/")
            page.locator(f'[data-inquiry="{ticket.pk}"]').get_by_role("link").click()
            page.wait_for_url(f"{base}/staff/support/{ticket.pk}/")
            expect(page.locator('[data-field="message"]')).to_have_text(ALICE["message"])
            page.get_by_label("Your answer").fill(ANSWER)
            page.get_by_role("button", name="Send the answer").click()
            page.wait_for_url(f"{base}/staff/support/{ticket.pk}/?done=answer_sent")
            expect(page.locator("[data-message-facts] [data-status]")).to_have_text("Answered")

            # -- the answer reaches the visitor, who replies from their mail program ------
            off_loop(deliver_queued)
            [answer] = smtp.messages[1:]
            assert answer["To"] == ALICE["email"]
            assert answer["Subject"] == f"[{ticket.reference}] Our answer to your message"
            assert ANSWER in body_of(answer)
            reply_to = unfolded(answer["Reply-To"])
            answer_id = unfolded(answer["Message-ID"])
            quoted = "\n".join("> " + line for line in body_of(answer).splitlines())
            emailed = reply_email(
                to=reply_to,
                text=f"{EMAILED_REPLY}\n\nOn Tue, Qualipact Support wrote:\n{quoted}\n",
                headers={"In-Reply-To": answer_id, "References": answer_id},
            )
            with smtplib.SMTP(support_mailbox.host, support_mailbox.port, timeout=120) as client:
                assert client.sendmail(ALICE["email"], [reply_to], emailed) == {}

            # -- the agent sees the emailed reply in the thread and answers it -----------
            page.goto(f"{base}/staff/support/{ticket.pk}/")
            expect(page.locator("[data-thread]")).to_contain_text(EMAILED_REPLY)
            expect(page.locator("[data-thread]")).not_to_contain_text("Qualipact Support wrote")
            expect(page.locator("[data-message-facts] [data-status]")).not_to_have_text("Answered")
            page.get_by_label("Your answer").fill(SECOND_ANSWER)
            page.get_by_role("button", name="Send the answer").click()
            page.wait_for_url(f"{base}/staff/support/{ticket.pk}/?done=answer_sent")

            # -- the visitor follows the second answer's link: the whole conversation -----
            off_loop(deliver_queued)
            [second] = smtp.messages[2:]
            assert second["To"] == ALICE["email"] and SECOND_ANSWER in body_of(second)
            [link] = re.findall(re.escape(base) + r"/support/link/[^/\s]+/", body_of(second))
            visitor = browser_context(browser)
            page = visitor.new_page()
            watch(page, requests, console_errors)
            page.goto(link)
            expect(page.get_by_role("heading", level=1)).to_contain_text(ticket.reference)
            entries = page.locator(".thread > li")
            expect(entries).to_have_count(4)
            expect(entries.nth(0)).to_contain_text(ALICE["message"])
            expect(entries.nth(1)).to_contain_text(ANSWER)
            expect(entries.nth(2)).to_contain_text(EMAILED_REPLY)
            expect(entries.nth(2)).not_to_contain_text("Qualipact Support wrote")
            expect(entries.nth(3)).to_contain_text(SECOND_ANSWER)
            page.get_by_label("5 (excellent)").check()
            page.get_by_role("button", name="Send rating").click()
            expect(page.locator('[data-done="rated"]')).to_be_visible()
            assert visitor.cookies() == []
            visitor.close()

            # -- the agent sees the rating on the ticket ----------------------------------
            page = staff.pages[0]
            page.reload()
            expect(page.locator("[data-message-facts] [data-rating]")).to_contain_text("5 out of 5")
            staff.close()
        finally:
            browser.close()

    [emailed_in] = TicketMessage.objects.filter(inquiry=ticket, kind=TicketMessage.Kind.EMAIL_IN)
    assert emailed_in.body == EMAILED_REPLY and emailed_in.sender_matches is True
    assert Feedback.objects.get(inquiry=ticket).score == 5
    assert console_errors == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

"""A real browser and a real mailbox: a visitor complains through the contact form, gets
the acknowledgement by email (reference, the CNIL for France), follows its link once,
replies on the site, and is offered a new link on a second visit. Signed in to the
account of the same address, the person does not find that complaint under "Your
messages" (an address typed by a visitor proves nothing); they write again signed in,
with the account's address shown and their name filled in, and find that message
there."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from conftest import (
    PASSWORD,
    PERSONAS,
    account_for,
    browser_context,
    browser_launch,
    contact_form_send,
    watch,
)
from conftest import deliver_queued as deliver
from qualipact.accounts.services.social import ProviderProfile, external_profile_save
from qualipact.accounts.tests.test_browser_accounts import off_loop
from qualipact.contact.models import Inquiry
from qualipact.support.models import TicketMessage

COMPLAINT = {
    "name": PERSONAS["alice"]["name"],
    "email": PERSONAS["alice"]["email"],
    "subject_line": "You shared my address",
    "message": "A partner of yours wrote to me at home; I never agreed to that.",
}
REPLY = "It happened again this morning: a second letter."
QUESTION = {
    "subject_line": "Did you stop sharing my address?",
    "message": "Could you confirm that no partner receives my postal address any more?",
}


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_takes_a_complaint_from_the_contact_form_to_its_page_by_email_and_signed_in(
    live_server, chromium_path, smtp, settings
):
    from playwright.sync_api import expect, sync_playwright

    settings.SITE_URL = live_server.url
    account = account_for("alice")  # the same address as the visitor's
    external_profile_save(  # the name her sign-in provider told us
        subject=account.subject,
        profile=ProviderProfile("google", "alice-google-1", COMPLAINT["name"], "", True),
    )
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- a visitor complains, from the home page ---------------------------------
            visitor = browser_context(browser)
            page = visitor.new_page()
            watch(page, requests, console_errors)
            contact_form_send(page, base, kind="complaint", fields=COMPLAINT, country="FR")
            next_steps = page.locator("[data-next-steps]")
            expect(next_steps).to_contain_text("Your complaint goes to our Data Protection Officer")
            expect(next_steps).not_to_contain_text("support team")
            assert visitor.cookies() == []

            # -- the acknowledgement arrives -----------------------------------------------
            off_loop(deliver)
            inquiry = off_loop(Inquiry.objects.get)
            [acknowledgement] = smtp.messages
            assert acknowledgement["To"] == COMPLAINT["email"]
            assert f"[{inquiry.reference}]" in acknowledgement["Subject"]
            text = body_of(acknowledgement)
            assert inquiry.reference in text
            assert "CNIL" in text and "https://www.cnil.fr" in text
            [link] = re.findall(re.escape(base) + r"/support/link/[^/\s]+/", text)

            # -- the link opens the message once -----------------------------------------
            page.goto(link)
            expect(page.get_by_role("heading", level=1)).to_contain_text(inquiry.reference)
            expect(page.locator(".thread")).to_contain_text(COMPLAINT["message"])
            expect(page.locator("[data-authority]")).to_contain_text("CNIL")
            expect(page.locator("[data-authority]")).to_contain_text("https://www.cnil.fr")
            page.fill("[name=body]", REPLY)
            page.get_by_role("button", name="Send reply").click()
            expect(page.locator('[data-done="replied"]')).to_be_visible()
            expect(page.locator(".thread")).to_contain_text(REPLY)
            assert visitor.cookies() == []

            # -- a second visit of the same link is refused, with a new link offered ------
            page.goto(link)
            expect(page.locator("[data-link-used]")).to_contain_text("used already")
            expect(page.get_by_role("button", name="Email me a new link")).to_be_visible()
            assert COMPLAINT["email"] not in page.content()
            page.get_by_role("button", name="Email me a new link").click()
            expect(page.locator("[data-link-sent]")).to_be_visible()
            assert visitor.cookies() == []
            visitor.close()
            off_loop(deliver)
            [fresh] = [m for m in smtp.messages if "A new link" in m["Subject"]]
            assert fresh["To"] == COMPLAINT["email"]
            [new_link] = re.findall(re.escape(base) + r"/support/link/[^/\s]+/", body_of(fresh))
            assert new_link != link

            # -- signed in, the visitor's complaint is not under "Your messages" ----------
            person = browser_context(browser)
            page = person.new_page()
            watch(page, requests, console_errors)
            page.goto(base + "/accounts/login/")
            page.fill("[name=login]", "alice")
            page.fill("[name=password]", PASSWORD)
            page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/")
            page.locator("[data-nav-messages]").click()
            page.wait_for_url(base + "/support/")
            expect(page.locator("[data-no-tickets]")).to_be_visible()
            expect(page.locator(f'[data-ticket="{inquiry.reference}"]')).to_have_count(0)
            page.goto(f"{base}/support/tickets/{inquiry.pk}/")
            expect(page.locator("[data-not-found]")).to_be_visible()

            # -- she writes signed in: the account's address, her name filled in ---------
            page.goto(base + "/contact/")
            expect(page.locator("[data-signed-in]")).to_be_visible()
            expect(page.locator("[name=email]")).to_have_value(COMPLAINT["email"])
            expect(page.locator("[name=email]")).to_be_disabled()
            expect(page.locator("[name=name]")).to_have_value(COMPLAINT["name"])
            contact_form_send(page, base, kind="privacy", fields=QUESTION)
            expect(page.locator("[data-next-steps]")).to_contain_text("Your privacy request")
            expect(page.locator("[data-your-messages]")).to_contain_text("You sent it signed in")
            off_loop(deliver)
            question = off_loop(lambda: Inquiry.objects.exclude(pk=inquiry.pk).get())
            assert smtp.messages[-1]["To"] == COMPLAINT["email"]
            assert f"[{question.reference}]" in smtp.messages[-1]["Subject"]

            # -- and finds that message under "Your messages", the complaint still not --
            page.locator("[data-your-messages]").get_by_role("link", name="Your messages").click()
            page.wait_for_url(base + "/support/")
            expect(page.locator("[data-ticket]")).to_have_count(1)
            row = page.locator(f'[data-ticket="{question.reference}"]')
            expect(row).to_contain_text(QUESTION["subject_line"])
            row.get_by_role("link", name=question.reference).click()
            page.wait_for_url(f"{base}/support/tickets/{question.pk}/")
            expect(page.locator(".thread")).to_contain_text(QUESTION["message"])
            assert off_loop(lambda: Inquiry.objects.filter(sent_signed_in=True).get()) == question
            person.close()
        finally:
            browser.close()

    [reply] = TicketMessage.objects.filter(inquiry=inquiry)
    assert (reply.kind, reply.body) == (TicketMessage.Kind.SITE_IN, REPLY)
    question.refresh_from_db()
    assert (question.subject_id, question.name) == (account.subject_id, COMPLAINT["name"])
    assert (question.email, question.kind) == (COMPLAINT["email"], "privacy")
    inquiry.refresh_from_db()
    assert inquiry.subject_id == account.subject_id and not inquiry.sent_signed_in
    # The used link's page answers 410 Gone, and the other's ticket 404 Not Found, which
    # Chromium reports in the console.
    assert [e for e in console_errors if not re.search(r"status of (410|404)", e)] == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

"""A real browser and a real mailbox: a visitor complains through the contact form, gets
the acknowledgement by email (reference, the CNIL for France), follows its link once,
replies on the site, and is offered a new link on a second visit; signed in, the same
person finds the message under "Your messages" in the site header."""

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


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_takes_a_complaint_from_the_contact_form_to_its_page_by_email_and_signed_in(
    live_server, chromium_path, smtp, settings
):
    from playwright.sync_api import expect, sync_playwright

    settings.SITE_URL = live_server.url
    account_for("alice")  # the same address as the visitor's: the same person
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

            # -- signed in, the person finds it under "Your messages" ---------------------
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
            row = page.locator(f'[data-ticket="{inquiry.reference}"]')
            expect(row).to_contain_text(COMPLAINT["subject_line"])
            expect(row).to_contain_text("Complaint")
            row.get_by_role("link", name=inquiry.reference).click()
            page.wait_for_url(f"{base}/support/tickets/{inquiry.pk}/")
            expect(page.locator(".thread")).to_contain_text(REPLY)
            expect(page.locator("[data-authority]")).to_contain_text("CNIL")
            person.close()
        finally:
            browser.close()

    [reply] = TicketMessage.objects.filter(inquiry=inquiry)
    assert (reply.kind, reply.body) == (TicketMessage.Kind.SITE_IN, REPLY)
    # The used link's page answers 410 Gone, which Chromium reports in the console.
    assert [e for e in console_errors if "status of 410" not in e] == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

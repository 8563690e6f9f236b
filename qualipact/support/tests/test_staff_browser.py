"""A real browser: a support agent signs in with an authenticator app, opens the staff
console, the Support inbox and a ticket, answers it, and the answer reaches the SMTP
server with the ticket's reference and reply address; the DPO finds a French complaint
under "Complaints" with its deadlines, and the CNIL on its ticket page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conftest import PERSONAS, browser_context, browser_launch, deliver_queued, watch
from qualipact.accounts.tests.test_browser_accounts import off_loop
from qualipact.contact.tests.conftest import staff_sign_in
from qualipact.support.addresses import reply_address
from qualipact.support.models import Complaint, TicketMessage
from qualipact.support.tests.staff_helpers import complaint_from, question_from, staff_member
from qualipact.web.roles import Role

AGENT_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DPO_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
ANSWER = "We have resent your March invoice; it should reach you within the hour."


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_lets_an_agent_answer_a_ticket_and_the_dpo_see_a_complaints_deadline(
    live_server, chromium_path, smtp
):
    from playwright.sync_api import expect, sync_playwright

    agent = staff_member("sam", Role.SUPPORT_AGENT, totp_secret=AGENT_SECRET)
    staff_member("dora", Role.DPO, totp_secret=DPO_SECRET)
    question = question_from("alice")
    complaint = complaint_from("bob", country="FR")
    deadlines = Complaint.objects.get(inquiry=complaint)
    deliver_queued()  # the acknowledgements
    before = len(smtp.messages)
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- the support agent answers ------------------------------------------------
            staff = browser_context(browser)
            page = staff.new_page()
            watch(page, requests, console_errors)
            staff_sign_in(page, base, "sam", AGENT_SECRET)
            page.locator("[data-nav-staff]").get_by_text("Staff console").click()
            page.wait_for_url(base + "/staff/")
            expect(page.locator('[data-console-page="support:staff_complaints"]')).to_have_count(0)
            page.locator('[data-console-page="contact:staff_support_inbox"]').get_by_role(
                "link", name="Support inbox"
            ).click()
            page.wait_for_url(base + "/staff/support/")
            row = page.locator(f'[data-inquiry="{question.pk}"]')
            row.get_by_role("link").click()
            page.wait_for_url(f"{base}/staff/support/{question.pk}/")
            expect(page.locator('[data-field="message"]')).to_have_text(
                PERSONAS["alice"]["message"]
            )
            page.get_by_label("Your answer").fill(ANSWER)
            page.get_by_role("button", name="Send the answer").click()
            page.wait_for_url(f"{base}/staff/support/{question.pk}/?done=answer_sent")
            expect(page.locator('[data-done="answer_sent"]')).to_be_visible()
            expect(page.locator("[data-thread]")).to_contain_text(ANSWER)
            expect(page.locator("[data-message-facts] [data-status]")).to_have_text("Answered")
            staff.close()

            # -- the DPO looks at the complaint -------------------------------------------
            dpo = browser_context(browser)
            page = dpo.new_page()
            watch(page, requests, console_errors)
            staff_sign_in(page, base, "dora", DPO_SECRET)
            page.goto(base + "/staff/")
            entry = page.locator('[data-console-page="support:staff_complaints"]')
            expect(entry.locator('[data-waiting="due within 7 days"]')).to_contain_text("1")
            entry.get_by_role("link", name="Complaints").click()
            page.wait_for_url(base + "/staff/dpo/complaints/")
            row = page.locator(f'[data-complaint="{complaint.pk}"]')
            expect(row).to_contain_text(f"{deadlines.acknowledge_by:%Y-%m-%d}")
            expect(row).to_contain_text(f"{deadlines.answer_by:%Y-%m-%d}")
            row.get_by_role("link").click()
            page.wait_for_url(f"{base}/staff/dpo/messages/{complaint.pk}/")
            expect(page.locator("[data-authority]")).to_contain_text("(CNIL)")
            expect(page.locator("[data-authority] a")).to_have_attribute(
                "href", "https://www.cnil.fr"
            )
            expect(page.locator('[data-deadline="acknowledge"]')).to_contain_text("7 days left")
            expect(page.locator('[data-deadline="answer"]')).to_contain_text(
                f"{deadlines.answer_by:%Y-%m-%d}"
            )
            dpo.close()
        finally:
            browser.close()

    off_loop(deliver_queued)
    [answer] = [m for m in smtp.messages[before:] if m["To"] == PERSONAS["alice"]["email"]]
    assert answer["Subject"] == f"[{question.reference}] Our answer to your message"
    assert " ".join(str(answer["Reply-To"]).split()) == reply_address(question)
    assert ANSWER in answer.get_payload(decode=True).decode()
    [stored] = TicketMessage.objects.filter(inquiry=question)
    assert stored.author_id == agent.pk and stored.kind == "answer"
    assert console_errors == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

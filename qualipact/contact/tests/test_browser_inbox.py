"""A real browser: a visitor writes through the contact form; a support agent signs in
with an authenticator app, opens the staff console from the site header, follows
"Support inbox", opens the message and takes it."""

from urllib.parse import urlsplit

import pytest

from conftest import browser_context, browser_launch, contact_form_send, run_deferred, watch
from qualipact.accounts.tests.test_browser_accounts import off_loop
from qualipact.contact.events import ContactCode
from qualipact.contact.models import Inquiry
from qualipact.contact.tests.conftest import staff_member, staff_sign_in
from qualipact.privacy.audit import EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.web.roles import Role

AGENT_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
VISITOR = {
    "name": "Ingrid Solberg",
    "email": "ingrid.solberg@example.no",
    "subject_line": "My order never arrived",
    "message": "I ordered a reading lamp three weeks ago and it has not come yet.",
}


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_lets_a_support_agent_take_a_message_written_through_the_contact_form(
    live_server, chromium_path
):
    from playwright.sync_api import expect, sync_playwright

    agent = staff_member("sam", Role.SUPPORT_AGENT, totp_secret=AGENT_SECRET)
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- a visitor writes to us ---------------------------------------------------
            visitor = browser_context(browser)
            page = visitor.new_page()
            watch(page, requests, console_errors)
            contact_form_send(page, base, kind="general", fields=VISITOR)
            visitor.close()
            off_loop(run_deferred)  # what the worker does with the form, seconds later

            # -- the support agent signs in with their authenticator app ---------------
            staff = browser_context(browser)
            page = staff.new_page()
            watch(page, requests, console_errors)
            staff_sign_in(page, base, "sam", AGENT_SECRET)

            # -- console, inbox, message ------------------------------------------------
            page.locator("[data-nav-staff]").get_by_text("Staff console").click()
            page.wait_for_url(base + "/staff/")
            inbox_entry = page.locator('[data-console-page="contact:staff_support_inbox"]')
            expect(inbox_entry.locator('[data-waiting="unassigned"]')).to_contain_text("1")
            inbox_entry.get_by_role("link", name="Support inbox").click()
            page.wait_for_url(base + "/staff/support/")
            row = page.locator("[data-inquiry]")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("General question")
            expect(row.locator("[data-assignee]")).to_contain_text("nobody yet")
            row.get_by_role("link").click()
            expect(page.locator('[data-field="message"]')).to_have_text(VISITOR["message"])
            expect(page.locator('[data-field="name"]')).to_have_text(VISITOR["name"])

            page.get_by_role("button", name="Assign to me").click()
            expect(page.locator("[data-done]")).to_be_visible()
            expect(page.locator("[data-message-facts] [data-assignee]")).to_contain_text("sam")
            expect(page.get_by_role("button", name="Assign to me")).to_have_count(0)

            page.get_by_role("link", name="Support inbox").click()
            expect(page.locator("[data-inquiry] [data-assignee]")).to_have_text("sam")
            staff.close()
        finally:
            browser.close()

    inquiry = Inquiry.objects.get()
    assert inquiry.queue == "support" and inquiry.assigned_to_id == agent.pk
    [assigned] = AuditEvent.objects.filter(code=ContactCode.INQUIRY_ASSIGNED)
    assert assigned.actor_id == str(agent.pk)
    # Opened, then shown again after taking it: each showing is one recorded view.
    views = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, subject_id=inquiry.subject_id
    )
    assert views.count() == 2
    assert {view.data["role"] for view in views} == {"support_agent"}
    assert console_errors == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

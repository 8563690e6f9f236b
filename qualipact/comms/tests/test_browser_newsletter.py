"""A real browser: a signed-in person ticks "Newsletters and marketing" in the preference
centre; a staff member (signed in with an authenticator app) writes and sends a
newsletter; the person's mailbox, a real SMTP server on 127.0.0.1, receives it."""

from urllib.parse import urlsplit

import pytest

from conftest import (
    PASSWORD,
    PERSONAS,
    account_for,
    browser_context,
    browser_launch,
    role_give,
    watch,
)
from qualipact.accounts.tests.test_browser_accounts import deliver
from qualipact.accounts.tests.test_mfa import fresh_code
from qualipact.web.roles import Role

STAFF_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def staff_with_authenticator():
    from allauth.mfa.totp.internal.auth import TOTP

    from qualipact.accounts.services import account_create

    staff = account_create(
        username="stella",
        email="stella@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    TOTP.activate(staff, STAFF_SECRET)
    return role_give(staff, Role.ADMINISTRATOR)


def sign_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.fill("[name=login]", username)
    page.fill("[name=password]", PASSWORD)
    page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_brings_the_next_newsletter_to_the_mailbox_after_a_tick_in_the_preference_centre(
    live_server, chromium_path, smtp
):
    from playwright.sync_api import expect, sync_playwright

    account_for("alice")
    staff_with_authenticator()
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- the person ticks marketing in their privacy choices ---------------------
            person = browser_context(browser)
            page = person.new_page()
            watch(page, requests, console_errors)
            sign_in(page, base, "alice")
            page.wait_for_url(base + "/accounts/")
            page.get_by_role("link", name="Your privacy choices").click()
            row = page.locator("tr", has_text="Newsletters and marketing")
            row.get_by_role("button", name="Give consent").click()
            page.wait_for_load_state()
            expect(page.locator("tr", has_text="Newsletters and marketing")).to_contain_text("On")
            person.close()

            # -- staff write and send a newsletter -----------------------------------------
            staff = browser_context(browser)
            page = staff.new_page()
            watch(page, requests, console_errors)
            sign_in(page, base, "stella")
            page.wait_for_url(base + "/accounts/2fa/authenticate/")
            page.fill("[name=code]", fresh_code(STAFF_SECRET))
            page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/")
            page.goto(base + "/staff/newsletters/")
            expect(page.locator("[data-audience]")).to_have_text("1")
            page.fill("[name=subject_line]", "Spring programme")
            page.fill("[name=body]", "Three new workshops on keeping your data yours.")
            page.get_by_role("button", name="Save draft").click()
            page.get_by_role("button", name="Send now").click()
            expect(page.locator("[data-queued]")).to_contain_text("Queued for 1 subscriber")
            staff.close()
        finally:
            browser.close()

    deliver()
    [message] = [m for m in smtp.messages if m["Subject"] == "Spring programme"]
    assert message["To"] == PERSONAS["alice"]["email"]
    assert "Three new workshops" in message.get_payload(decode=True).decode()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert console_errors == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

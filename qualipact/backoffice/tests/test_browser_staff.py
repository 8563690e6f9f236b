"""The README's staff path in a real browser: the first administrator made by
`manage.py staff_create` signs in with a password and an authenticator app, opens the
staff console from the site header, invites a DPO and a support agent; each opens the
emailed link (sent through a real SMTP server), chooses a password, sets up an
authenticator app and sees exactly the console their role allows."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from conftest import browser_context, browser_launch, watch
from qualipact.accounts.tests.test_browser_accounts import deliver, off_loop
from qualipact.accounts.tests.test_mfa import fresh_code

ADMIN_PASSWORD = "seven tall giraffes read poetry at noon"
INVITEE_PASSWORD = "nine quiet owls count the stars"


def invitation_path(smtp, address: str) -> str:
    [message] = [
        m
        for m in smtp.messages
        if m["To"] == address and m["Subject"] == "You are invited to join Qualipact's staff"
    ]
    text = message.get_payload(decode=True).decode()
    return urlsplit(re.search(r"https?://\S+/join-staff/\S+/", text).group(0)).path


def reauthenticate_if_asked(page, password: str):
    if "/accounts/reauthenticate/" in page.url:
        page.fill("[name=password]", password)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()


def totp_set_up(page, base: str, password: str, used: set[str]) -> str:
    """From wherever the page is: the authenticator app, as a person sets it up."""
    if "/accounts/2fa/totp/activate/" not in page.url:
        page.goto(base + "/accounts/2fa/totp/activate/")
    reauthenticate_if_asked(page, password)
    page.wait_for_url(base + "/accounts/2fa/totp/activate/")
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    page.fill("[name=code]", fresh_code(secret, used))
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_url(base + "/accounts/2fa/recovery-codes/")
    return secret


def console_pages(page) -> set[str]:
    return set(page.locator("[data-console-page]").evaluate_all(
        "els => els.map(e => e.querySelector('a').textContent.trim())"
    ))  # fmt: skip


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_walks_the_readme_staff_path(live_server, chromium_path, smtp, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base = live_server.url
    password_file = tmp_path / "password"
    password_file.write_text(ADMIN_PASSWORD + "\n")
    out = io.StringIO()
    off_loop(
        call_command,
        "staff_create", "--username", "ada", "--email", "ada@example.org",
        "--password-file", str(password_file), stdout=out,
    )  # fmt: skip
    assert "/accounts/login/" in out.getvalue()
    requests, console_errors = [], []
    used: set[str] = set()

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- the first administrator: password, then an authenticator app ---------------
            admin = browser_context(browser).new_page()
            watch(admin, requests, console_errors)
            admin.goto(base + "/accounts/login/")
            admin.fill("[name=login]", "ada")
            admin.fill("[name=password]", ADMIN_PASSWORD)
            admin.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            admin.wait_for_url(base + "/accounts/")
            secret = totp_set_up(admin, base, ADMIN_PASSWORD, used)
            admin.goto(base + "/accounts/")
            admin.get_by_role("button", name="Sign out").click()
            admin.wait_for_load_state()

            admin.goto(base + "/accounts/login/")
            admin.fill("[name=login]", "ada")
            admin.fill("[name=password]", ADMIN_PASSWORD)
            admin.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            admin.wait_for_url(base + "/accounts/2fa/authenticate/")
            admin.fill("[name=code]", fresh_code(secret, used))
            admin.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
            admin.wait_for_url(base + "/accounts/")

            # -- the console from the header, then "Staff and roles" -----------------------
            admin.locator("[data-nav-staff]").click()
            admin.wait_for_url(base + "/staff/")
            assert "Staff and roles" in console_pages(admin)
            admin.get_by_role("link", name="Staff and roles").click()
            admin.wait_for_url(base + "/staff/people/")
            invitees = {
                "dora.dpo@example.org": ("dora", "Data Protection Officer"),
                "sam.support@example.org": ("sam", "Support agent"),
            }
            for address, (_, role) in invitees.items():
                form = admin.locator("[data-staff-invite] form")
                form.locator("[name=email]").fill(address)
                form.get_by_label(role).check()
                form.get_by_role("button", name="Send invitation").click()
                expect(admin.locator("[data-done]")).to_have_text("Invitation sent.")
            expect(admin.locator("[data-invite]")).to_have_count(2)
            admin.goto(base + "/staff/")
            expect(admin.locator("[data-waiting='pending invitations']")).to_contain_text("2")

            # -- each invitee: the emailed link, a password, an authenticator app ----------
            deliver()
            for address, (username, _) in invitees.items():
                context = browser_context(browser)
                page = context.new_page()
                watch(page, requests, console_errors)
                page.goto(base + invitation_path(smtp, address))
                assert context.cookies() == []
                page.fill("[name=username]", username)
                page.fill("[name=password]", INVITEE_PASSWORD)
                page.fill("[name=password_again]", INVITEE_PASSWORD)
                page.get_by_role("button", name="Create my staff account").click()
                page.wait_for_load_state()
                totp_set_up(page, base, INVITEE_PASSWORD, used)

                page.locator("[data-nav-staff]").click()
                page.wait_for_url(base + "/staff/")
                pages = console_pages(page)
                assert "Staff and roles" not in pages, (username, pages)
                assert ("Data-subject requests" in pages) == (username == "dora"), pages
                if username == "sam":
                    before = len(console_errors)
                    response = page.goto(base + "/staff/rights/")
                    assert response is not None and response.status == 403
                    # The refusal itself is the one console entry this visit may cause.
                    assert [e for e in console_errors[before:] if "403" not in e] == []
                    del console_errors[before:]
                context.close()

            admin.goto(base + "/staff/people/")
            expect(admin.locator("[data-staff-member]")).to_have_count(3)
            expect(admin.locator("[data-invite]")).to_have_count(0)
        finally:
            browser.close()

    assert console_errors == []
    origin = urlsplit(base)
    assert [u for u in requests if urlsplit(u).netloc != origin.netloc] == []

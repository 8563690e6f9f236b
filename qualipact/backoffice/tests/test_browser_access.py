"""In a real browser: a DPO signs in with an authenticator app, opens a person's request and
its records from the staff console; the person then signs in, follows "Who accessed my
data" from their account page and finds that look listed, by role and purpose, never by
name. Under the site's strict CSP: no console error, no request to another host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from conftest import PASSWORD, browser_context, browser_launch, watch
from qualipact.accounts.services import account_create
from qualipact.accounts.tests.test_mfa import fresh_code
from qualipact.backoffice.tests.conftest import ALICE_USERNAME
from qualipact.privacy.audit import EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.web.roles import Role


def sign_in(page, base: str, username: str, *, totp_secret: str | None = None) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("[name=login]", username)
    page.fill("[name=password]", PASSWORD)
    page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
    if totp_secret is not None:
        page.wait_for_url(base + "/accounts/2fa/authenticate/")
        page.fill("[name=code]", fresh_code(totp_secret))
        page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/accounts/")


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_shows_the_person_a_dpos_look_at_their_records(
    live_server, chromium_path, no_broker, alice_seeded
):
    from playwright.sync_api import expect, sync_playwright

    from conftest import role_give

    dpo = account_create(
        username="dana",
        email="dana@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    secret = generate_totp_secret()
    TOTP.activate(dpo, secret)
    role_give(dpo, Role.DPO)
    request_id = str(alice_seeded["request"].pk)
    subject_id = alice_seeded["account"].subject_id
    base = live_server.url
    requests: list[str] = []
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- the DPO: console, the request, the person's records ---------------------
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, errors)
            sign_in(page, base, "dana", totp_secret=secret)
            page.locator("[data-nav-staff]").click()
            page.locator('[data-console-page="rights:dpo_queue"] a').first.click()
            page.locator(f'a[href="/staff/rights/{request_id}/"]').first.click()
            page.wait_for_url(f"{base}/staff/rights/{request_id}/")
            page.locator("[data-show-records]").click()
            expect(page.locator("[data-records]")).to_be_visible()
            context.close()

            # -- the person: account page, then "Who accessed my data" ---------------------
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, errors)
            sign_in(page, base, ALICE_USERNAME)
            page.locator("[data-who-accessed-link]").click()
            page.wait_for_url(base + "/accounts/who-accessed/")
            row = page.locator("[data-access]")
            expect(row).to_have_count(1)
            expect(row.locator("[data-access-role]")).to_have_text("Data Protection Officer")
            expect(row.locator("[data-access-purpose]")).to_have_text(
                "Answering requests about your rights"
            )
            expect(row.locator("[data-access-viewed]")).to_contain_text(
                "Your contact message: name"
            )
            assert "dana" not in page.content()
            context.close()
        finally:
            browser.close()

    assert errors == []
    assert {urlsplit(url).netloc for url in requests} == {urlsplit(base).netloc}
    viewed = AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED, subject_id=subject_id)
    assert viewed.exists() and {e.actor_id for e in viewed} == {str(dpo.pk)}

"""A DPO, in a real browser, corrects a person's data by picking it: signs in with an
authenticator code, follows the header's "Staff console", then "Data-subject requests",
opens the request (who asked is named), picks "Account preferences: language", chooses
the new language from the field's own choices, and the person receives, through SMTP, an
email that says what was corrected in plain words. No request leaves the site and no
console error (a CSP violation shows up as one)."""

from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect, sync_playwright

from conftest import PASSWORD, browser_context, browser_launch, role_give, submit_persona, watch
from qualipact.accounts.models import Preferences
from qualipact.accounts.services import account_create
from qualipact.accounts.tests.test_browser_accounts import deliver, off_loop
from qualipact.accounts.tests.test_mfa import fresh_code
from qualipact.privacy.audit import Actor
from qualipact.rights import services
from qualipact.rights.models import DataRequest
from qualipact.web.roles import Role


@pytest.fixture
def dora():
    """A DPO whose authenticator secret the test knows."""
    user = account_create(
        username="dora",
        email="dora@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    role_give(user, Role.DPO)
    return secret


@pytest.fixture
def correction(alice_account, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    submit_persona("alice")
    return services.request_submit(
        subject=alice_account.subject,
        kind=DataRequest.Kind.RECTIFICATION,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(alice_account.subject_id),
        details={"correction": "Please write to me in French."},
    )


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_lets_a_dpo_correct_a_field_by_picking_it_and_tells_the_person_in_words(
    live_server, chromium_path, smtp, dora, correction, alice_account
):
    base = live_server.url
    requests: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)

            page.goto(base + "/accounts/login/")
            page.fill("[name=login]", "dora")
            page.fill("[name=password]", PASSWORD)
            page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/2fa/authenticate/")
            page.fill("[name=code]", fresh_code(dora))
            page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
            expect(page.locator("[data-nav-staff]")).to_be_visible()

            page.locator("[data-nav-staff]").click()
            page.wait_for_url(base + "/staff/")
            page.get_by_role("link", name="Data-subject requests").click()
            page.wait_for_url(base + "/staff/rights/")
            row = page.locator(f'[data-request="{correction.pk}"]')
            expect(row).to_contain_text("Alice Marchetti")
            row.get_by_role("link", name="Correct my data").click()
            page.wait_for_url(f"{base}/staff/rights/{correction.pk}/")
            expect(page.locator("[data-person]")).to_contain_text("Alice Marchetti")
            expect(page.locator("[data-asked]")).to_contain_text("Please write to me in French.")

            page.select_option("[name=correct]", label="Account preferences: language")
            page.get_by_role("button", name="Choose").click()
            expect(page.locator("[data-current]")).to_contain_text("English")
            page.select_option("[name=value]", label="Français")
            page.get_by_role("button", name="Correct", exact=True).click()
            expect(page.locator("[data-done]")).to_be_visible()
            expect(page.locator("[data-status]")).to_have_text("Completed")
            expect(page.locator("[data-outcome]")).to_contain_text("language (account preferences)")
        finally:
            browser.close()

    def language():
        return Preferences.objects.get(subject=alice_account.subject).language

    assert off_loop(language) == "fr"
    deliver()
    [message] = [m for m in smtp.messages if m["Subject"] == "Your request is complete"]
    assert message["To"] == "alice.marchetti@example.org"
    body = message.get_payload(decode=True).decode()
    assert "We corrected your data: language (account preferences)." in body
    assert "accounts.Preferences" not in body
    hosts = {urlsplit(url).netloc for url in requests}
    assert hosts == {urlsplit(base).netloc}, hosts
    assert console_errors == []

"""The appeal journey in a real browser: a DPO refused Alice's request; she follows the
link in the refusal email, signs in and appeals in her own words; a second DPO signs in
with an authenticator code, finds the appeal from the staff console and upholds the
refusal; Alice receives, through a real SMTP server, the outcome naming the supervisory
authority of the country she gave (France: the CNIL)."""

import re
from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD, PERSONAS, browser_context, browser_launch, totp_code, watch
from qualipact.accounts.tests.test_browser_accounts import deliver

WORDS = "The address you hold is my old one; my contract was updated last spring."
REASONS = "The contract you signed names the old address until it is renewed."


def the_message(smtp, subject: str):
    [message] = [m for m in smtp.messages if m["Subject"] == subject]
    return message, message.get_payload(decode=True).decode()


def sign_in(page, base: str, username: str) -> None:
    page.fill("[name=login]", username)
    page.fill("[name=password]", PASSWORD)
    page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_walks_an_appeal_from_the_refusal_email_to_the_outcome_naming_the_authority(
    live_server, chromium_path, smtp, refused_request, second_dpo
):
    from playwright.sync_api import expect, sync_playwright

    from conftest import deliver_queued

    deliver_queued()  # the refusal, before the browser's event loop runs
    base = live_server.url
    alice = PERSONAS["alice"]["email"]
    message, body = the_message(smtp, "We cannot do what you asked")
    assert message["To"] == alice
    link = re.search(rf"https?://\S+/rights/{refused_request.pk}/", body).group(0)
    requests, console_errors = [], []
    used_codes: set[str] = set()

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # -- Alice follows the emailed link, signs in and appeals ----------------------
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)
            page.goto(base + urlsplit(link).path)
            assert "/accounts/login/" in page.url  # her request's page needs her account
            sign_in(page, base, "alice")
            page.wait_for_url(base + urlsplit(link).path)
            expect(page.locator("[data-appeal-block]")).to_be_visible()
            page.get_by_role("link", name="Appeal this decision").click()
            page.fill("[name=text]", WORDS)
            page.select_option("[name=country]", "FR")
            page.get_by_role("button", name="Send my appeal").click()
            expect(page.locator("[data-appeal-sent]")).to_be_visible()
            expect(page.locator('[data-appeal-status="open"]')).to_be_visible()
            context.close()
            deliver()

            # -- Dora, the second DPO, signs in with a code and decides from the console ---
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)
            page.goto(base + "/accounts/login/")
            sign_in(page, base, "dora")
            page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/"))
            page.fill("[name=code]", totp_code(second_dpo.totp_secret, used_codes))
            page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            page.goto(base + "/staff/")
            page.get_by_role("link", name="Appeals of refused requests").first.click()
            page.wait_for_url(re.compile(r".*/staff/rights/appeals/"))
            page.locator("[data-appeals] a").first.click()
            expect(page.locator("[data-appeal-text]")).to_contain_text(WORDS)
            page.check("input[name=decision][value=uphold]")
            page.fill("[name=reason]", REASONS)
            page.get_by_role("button", name="Send the decision").click()
            expect(page.locator("[data-done]")).to_be_visible()
            expect(page.locator('[data-appeal-status="upheld"]')).to_be_visible()
            context.close()
        finally:
            browser.close()

    deliver_queued()
    message, body = the_message(smtp, "We upheld our refusal")
    assert message["To"] == alice
    assert REASONS in body
    assert "Commission nationale de l'informatique et des libertés (CNIL)" in body
    assert "https://www.cnil.fr" in body
    assert console_errors == []
    origin = urlsplit(base)
    assert all(
        (urlsplit(url).scheme, urlsplit(url).netloc) == (origin.scheme, origin.netloc)
        for url in requests
    )

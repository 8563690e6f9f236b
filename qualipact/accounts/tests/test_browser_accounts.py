"""A real browser opens an account and protects it: sign-up, the emailed link, sign-in,
an authenticator app, then a passkey, under the site's strict CSP.

It proves, end to end: no cookie at all before sign-in, exactly one session cookie after;
the confirmation email really leaves through SMTP; TOTP and WebAuthn work with scripts
served by us only; no request to another host; no console error (a CSP violation shows
up as one). Chromium is the system one; the passkey lives in Chromium's virtual
authenticator (DevTools protocol), so no device is needed.
"""

import re
import threading
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.db import connections

from conftest import browser_context, browser_launch, watch
from qualipact.accounts.models import User
from qualipact.accounts.tests.test_mfa import fresh_code

PASSWORD = "seven tall giraffes read poetry at noon"
EMAIL = "jonas.berg@example.org"
SESSION_COOKIE = "__Host-qp_session"


def off_loop(function, *args, **kwargs):
    """Run ORM work in a thread of its own: Playwright's sync API keeps an asyncio loop
    running in the test thread, and Django refuses database calls while one runs."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed back to the test thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def deliver():
    from conftest import deliver_queued

    off_loop(deliver_queued)


def emailed_path(smtp, subject: str) -> str:
    [message] = [m for m in smtp.messages if m["Subject"] == subject]
    assert message["To"] == EMAIL
    text = message.get_payload(decode=True).decode()
    return urlsplit(re.search(r"https?://\S+/accounts/\S+/", text).group(0)).path


def the_session_cookie(context) -> dict:
    cookies = context.cookies()
    assert [c["name"] for c in cookies] == [SESSION_COOKIE], cookies
    return cookies[0]


def reauthenticate_if_asked(page):
    if "/accounts/reauthenticate/" in page.url:
        page.fill("[name=password]", PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_signs_up_confirms_signs_in_and_adds_an_authenticator_app_and_a_passkey(
    live_server, chromium_path, smtp
):
    from playwright.sync_api import expect, sync_playwright

    base = live_server.url
    assert urlsplit(base).hostname == "localhost"  # WebAuthn needs a domain, not an IP
    requests, console_errors = [], []
    used_codes: set[str] = set()

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)

            # -- sign-up: two steps, no cookie -----------------------------------------
            for path in ("/", "/accounts/login/", "/accounts/signup/"):
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path
                assert context.cookies() == [], path
            page.fill("[name=birth_date]", "1988-11-02")
            page.select_option("[name=country]", "SE")
            page.get_by_role("button", name="Continue").click()
            expect(page.locator("[name=username]")).to_be_visible()
            assert context.cookies() == []
            page.fill("[name=username]", "jonas")
            page.fill("[name=email]", EMAIL)
            page.fill("[name=password]", PASSWORD)
            page.get_by_role("button", name="Create account").click()
            expect(page.locator("[data-signup-done]")).to_be_visible()
            assert context.cookies() == []

            # -- the confirmation email, through the real SMTP server -------------------
            deliver()
            page.goto(base + emailed_path(smtp, "Confirm your email address"))
            page.get_by_role("button", name="Confirm my email address").click()
            expect(page.locator("[data-verified]")).to_be_visible()
            assert context.cookies() == []

            # -- sign in: exactly one cookie --------------------------------------------
            page.goto(base + "/accounts/login/")
            page.fill("[name=login]", "jonas")
            page.fill("[name=password]", PASSWORD)
            page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/")
            cookie = the_session_cookie(context)
            assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
            assert cookie["path"] == "/" and not cookie["domain"].startswith(".")

            # -- an authenticator app ---------------------------------------------------
            page.goto(base + "/accounts/2fa/totp/activate/")
            reauthenticate_if_asked(page)
            page.wait_for_url(base + "/accounts/2fa/totp/activate/")
            expect(page.locator("[data-totp-qr] svg")).to_be_visible()
            secret = page.locator("[data-totp-secret]").inner_text().strip()
            page.fill("[name=code]", fresh_code(secret, used_codes))
            page.get_by_role("button", name="Turn on").click()
            page.wait_for_url(base + "/accounts/2fa/recovery-codes/")
            assert page.locator("[data-recovery-codes] li").count() == 10

            page.goto(base + "/accounts/")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_load_state()
            assert context.cookies() == []

            # -- sign in again: the password, then a code -------------------------------
            page.goto(base + "/accounts/login/")
            page.fill("[name=login]", "jonas")
            page.fill("[name=password]", PASSWORD)
            page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/2fa/authenticate/")
            page.fill("[name=code]", fresh_code(secret, used_codes))
            page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/accounts/")
            the_session_cookie(context)

            # -- a passkey, in Chromium's virtual authenticator -------------------------
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                    }
                },
            )
            page.goto(base + "/accounts/2fa/webauthn/add/")
            reauthenticate_if_asked(page)
            page.wait_for_url(base + "/accounts/2fa/webauthn/add/")
            page.fill("[name=name]", "Test laptop")
            page.check("[name=passwordless]")
            page.get_by_role("button", name="Add").click()
            page.wait_for_url(base + "/accounts/2fa/")

            page.goto(base + "/accounts/")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_load_state()
            assert context.cookies() == []

            # -- sign in with the passkey alone -----------------------------------------
            page.goto(base + "/accounts/login/")
            page.get_by_role("button", name="Sign in with a passkey").click()
            page.wait_for_url(base + "/accounts/")
            expect(page.locator("[data-account-username]")).to_contain_text("jonas")
            the_session_cookie(context)
            context.close()
        finally:
            browser.close()

    # After Playwright has stopped: database reads, and what the browser did.
    assert console_errors == []
    assert requests, "the page made no requests at all: the recorder is broken"
    origin = urlsplit(base)
    foreign = [
        url
        for url in requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert foreign == []
    user = User.objects.get(username="jonas")
    assert user.email == EMAIL and user.email_verified_at is not None
    kinds = sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    assert kinds == ["recovery_codes", "totp", "webauthn"]
    passkey = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().is_passwordless is True

"""A real browser: a child signs up, the parent consents by email, downloads and deletes.

The parent's message comes through a real SMTP server; the parent signs in with their own
verified adult account. The child's account ends erased with its key shredded. Chromium
is the system one (`apt-get install chromium`), never a downloaded one.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from conftest import browser_context, browser_launch, deliver_queued, watch
from qualipact.accounts.models import ParentalConsent, User
from qualipact.accounts.services import account_create
from qualipact.comms import tasks as comms_tasks
from qualipact.privacy.models import DataSubject, ShredRecord

PASSWORD = "correct horse battery staple 42"
PARENT_EMAIL = "pat.parent@example.org"
CHILD_EMAIL = "kim.child@example.org"


def in_thread(function):
    """Run ORM work off the test thread: Playwright's sync API keeps an asyncio loop
    running in it, and Django refuses database calls there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def parent_message(smtp):
    for message in smtp.messages:
        if message["To"] == PARENT_EMAIL:
            return message.get_payload(decode=True).decode()
    raise AssertionError("no message reached the parent")


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_takes_a_child_from_sign_up_to_deletion_through_the_parents_consent(
    live_server, chromium_path, smtp, settings, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    settings.SITE_URL = live_server.url
    # Emails stay queued until the test delivers them through the SMTP server.
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)
    account_create(username="pat", email=PARENT_EMAIL, password=PASSWORD, email_verified=True)
    today = timezone.localdate()
    ten_years_old = date(today.year - 10, 1, 1).isoformat()
    origin = urlsplit(live_server.url)
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # The child, in their own browser.
            child_context = browser_context(browser)
            page = child_context.new_page()
            watch(page, requests, console_errors)
            page.goto(f"{live_server.url}/accounts/signup/")
            page.fill("[name=birth_date]", ten_years_old)
            page.select_option("[name=country]", "AT")
            page.get_by_role("button", name="Continue").click()
            page.fill("[name=username]", "kim")
            page.fill("[name=email]", CHILD_EMAIL)
            page.fill("[name=password]", PASSWORD)
            page.fill("[name=parent_email]", PARENT_EMAIL)
            page.get_by_role("button", name="Create account").click()
            expect(page.locator("[data-signup-done]")).to_be_visible()
            child_context.close()

            in_thread(deliver_queued)  # the worker's part of the sign-up, then the mail
            subject_id = in_thread(lambda: User.objects.get(username="kim").subject_id)
            body = parent_message(smtp)
            link = re.search(r"https?://\S+/accounts/parent/consent/\S+/", body)
            assert link, "no consent link in the parent's message"
            assert link.group(0).startswith(live_server.url)

            # The parent, in theirs.
            context = browser_context(browser, accept_downloads=True)
            page = context.new_page()
            watch(page, requests, console_errors)
            page.goto(link.group(0))
            expect(page.locator("[data-child-username]")).to_have_text("kim")
            expect(page.locator("[data-collected]")).to_contain_text("email address")
            expect(page.locator("[data-never]")).to_contain_text("no location")
            page.get_by_role("link", name="Sign in and continue").click()
            page.fill("[name=login]", "pat")
            page.fill("[name=password]", PASSWORD)
            with page.expect_navigation(url=link.group(0)):
                page.locator("form button[type=submit]").first.click()
            page.locator("[data-consent-grant]").click()
            expect(page.locator("[data-consent-granted]")).to_be_visible()

            page.get_by_role("link", name="your children's accounts").click()
            page.get_by_role("link", name="kim").click()
            expect(page.locator("[data-field=email]").first).to_contain_text(CHILD_EMAIL)
            with page.expect_download() as download_info:
                page.locator("[data-child-download]").click()
            download = download_info.value
            document = json.loads(open(download.path(), encoding="utf-8").read())  # noqa: SIM115
            filename = download.suggested_filename

            page.locator("[data-child-delete] input[type=checkbox]").check()
            page.get_by_role("button", name="Delete the account").click()
            # Deleting needs a recent sign-in: allauth asks for the password again, then
            # carries out the interrupted request.
            page.fill("[name=password]", PASSWORD)
            page.locator("form button[type=submit]").first.click()
            expect(page.locator("[data-child-deleted]")).to_be_visible()
            context.close()
        finally:
            browser.close()

    assert filename.startswith("child-data-") and filename.endswith(".json")
    values = [field["value"] for record in document["records"] for field in record["fields"]]
    assert "kim" in values and CHILD_EMAIL in values and PARENT_EMAIL in values

    assert not User.objects.filter(username="kim").exists()
    subject = DataSubject.objects.get(pk=subject_id)
    assert subject.erased_at is not None
    assert ShredRecord.objects.filter(subject_id=subject.pk).exists()
    assert not ParentalConsent.objects.filter(subject_id=subject.pk).exists()
    assert User.objects.filter(username="pat").exists()

    assert console_errors == []
    foreign = [
        url
        for url in requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert foreign == []

"""A real browser walks the public site as an anonymous visitor and writes to us.

It proves, end to end, the web rules that hold everywhere: no cookie and no browser
storage, no third-party request, a strict nonce CSP that breaks nothing, and a contact
message that reaches the database encrypted. Chromium is the system one
(`apt-get install chromium`), never a browser downloaded by Playwright.
"""

import uuid
from urllib.parse import urlsplit

import pytest

from conftest import STORAGE_PROBE, browser_context, browser_launch, run_deferred, watch
from qualipact.contact.models import Inquiry

VISITOR = {
    "name": "Maren Lindqvist",
    "email": "maren.lindqvist@example.com",
    "phone": "+46 8 123 456 78",
    "postal_address": "Sveavägen 44, 111 34 Stockholm, Sweden",
    "subject_line": "Which data do you hold about me?",
}


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_lets_an_anonymous_visitor_write_to_us_leaving_no_trace_in_the_browser(
    live_server, chromium_path
):
    from playwright.sync_api import expect, sync_playwright

    # A unique marker lets us find the text in the ciphertext if it ever leaked there.
    marker = f"QP-BROWSER-{uuid.uuid4().hex}"
    message = (
        "Hello, I would like a copy of all personal data you hold about me, "
        f"including any inquiry I sent before. My reference is {marker}."
    )
    origin = urlsplit(live_server.url)
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)

            for path in ("/", "/privacy/", "/contact/"):
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path

            page.select_option("select[name=kind]", "privacy")
            for field, value in VISITOR.items():
                page.fill(f"[name={field}]", value)
            page.fill("textarea[name=message]", message)
            # The honeypot is for bots: a person never sees it (site.css, loaded under the
            # CSP, moves it off screen), so it stays empty. Were it filled, the view would
            # store nothing and Inquiry.objects.get() below would fail.
            honeypot = page.locator("input[name=website]")
            expect(honeypot).to_have_value("")
            box = honeypot.bounding_box()
            assert box is None or box["x"] + box["width"] <= 0, "the honeypot is on screen"

            thanks = f"{live_server.url}/contact/thanks/?privacy=1"
            with page.expect_navigation(url=lambda url: url == thanks):
                page.get_by_role("button", name="Send").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Thank you, we have your message"
            )

            cookies = context.cookies()
            storage = page.evaluate(STORAGE_PROBE)
            context.close()
        finally:
            browser.close()

    # Everything below runs after Playwright has stopped. Its sync API keeps an asyncio
    # loop running in this thread, and Django refuses ORM calls while one runs
    # (SynchronousOnlyOperation); reading the database here, not inside the `with`,
    # avoids switching that guard off with DJANGO_ALLOW_ASYNC_UNSAFE.
    assert cookies == []
    assert storage == {"local": [], "session": [], "indexedDB": [], "caches": []}
    assert requests, "the page made no requests at all: the recorder is broken"
    foreign = [
        url
        for url in requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert foreign == []
    assert console_errors == []

    run_deferred()  # what the worker does with the form, seconds later
    inquiry = Inquiry.objects.get()
    assert inquiry.kind == Inquiry.Kind.PRIVACY
    assert inquiry.message == message
    assert inquiry.email == VISITOR["email"]
    # The column itself holds ciphertext only, never what the visitor typed.
    raw = Inquiry.objects.values_list("message", flat=True).get()
    assert isinstance(raw, bytes)
    assert marker.encode() not in raw
    assert message.encode() not in raw

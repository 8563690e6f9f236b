"""A real browser reaches personalised offers from the site's own navigation: an
anonymous visitor learns how from the offers page, signs in, lands on "Offers for you",
agrees, states an interest and sees the list ranked for them; signed in, the header
links there from every page."""

from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD, account_for, browser_context, browser_launch, watch
from qualipact.offers.services import offer_create

SESSION_COOKIE = "__Host-qp_session"


def catalogue() -> None:
    offer_create(
        slug="privacy-guide",
        title="A privacy guide",
        kind="article",
        summary="Read it.",
        topics=["privacy"],
    )
    offer_create(
        slug="security-tips",
        title="Security tips",
        kind="article",
        summary="Try them.",
        topics=["security"],
    )


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_leads_a_person_from_the_home_page_to_offers_for_them(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    account_for("alice")
    catalogue()
    base = live_server.url
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser)
            page = context.new_page()
            watch(page, requests, console_errors)

            # Anonymous: the offers page says how to get offers chosen for you.
            page.goto(base + "/")
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Offers").click()
            page.wait_for_url(base + "/offers/")
            how = page.locator("[data-offers-how]")
            expect(how).to_contain_text("Offers for you")
            assert context.cookies() == []
            how.get_by_role("link", name="Sign in").click()

            # Signing in from there lands on the person's own offers page.
            page.fill("[name=login]", "alice")
            page.fill("[name=password]", PASSWORD)
            page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/offers/for-you/")
            assert [c["name"] for c in context.cookies()] == [SESSION_COOKIE]

            # Agree to recommendations, state an interest, see the list ranked for it.
            choice = page.locator("[data-choice=personalised_offers]")
            choice.get_by_role("button", name="Give consent").click()
            page.wait_for_url(base + "/offers/for-you/")
            page.get_by_label("Security").check()
            page.get_by_role("button", name="Save my interests").click()
            page.wait_for_url(base + "/offers/for-you/")
            expect(page.locator("#list-heading")).to_have_text("Chosen for you")
            first = page.locator("[data-offer]").first
            expect(first).to_have_attribute("data-offer", "security-tips")
            expect(first.locator("[data-why]")).to_contain_text("Security")

            # Signed in, every page's header leads there.
            page.goto(base + "/")
            page.locator("[data-nav-offers-for-you]").click()
            page.wait_for_url(base + "/offers/for-you/")
            # The offers page says so too, and so does the account page.
            page.goto(base + "/offers/")
            page.locator("[data-offers-for-you]").get_by_role("link").click()
            page.wait_for_url(base + "/offers/for-you/")
            page.goto(base + "/accounts/")
            page.locator("[data-offers-link]").click()
            page.wait_for_url(base + "/offers/for-you/")
            context.close()
        finally:
            browser.close()

    assert console_errors == []
    origin = urlsplit(base)
    assert all(urlsplit(url).netloc == origin.netloc for url in requests)

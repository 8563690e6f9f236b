"""A real browser shares its position: only after the click, coarsened before it leaves
the browser, under the strict CSP, and only on the page where geolocation is allowed.

Chromium is the system one (`apt-get install chromium`), never a downloaded one.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import DESKTOP_CHROME, browser_context, browser_launch, watch
from qualipact.consent.services import preference_link_issue
from qualipact.offers.models import LocationFix
from qualipact.offers.tests.conftest import RAW_LATITUDE, RAW_LONGITUDE, grant
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_create

ALLOWS_GEOLOCATION = "() => document.featurePolicy.allowsFeature('geolocation')"


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_a_browser_shares_a_coarse_position_only_after_the_click(
    live_server, chromium_path, consent_wordings
):
    from playwright.sync_api import sync_playwright

    alice = subject_create(actor=Actor.system("test"))
    grant(alice, "location_features")
    token = preference_link_issue(subject=alice)
    origin = urlsplit(live_server.url)
    posted, console_errors, requests = [], [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(
                browser,
                user_agent=DESKTOP_CHROME,
                geolocation={
                    "latitude": float(RAW_LATITUDE),
                    "longitude": float(RAW_LONGITUDE),
                },
                permissions=["geolocation"],
            )
            page = context.new_page()
            watch(page, requests, console_errors)
            page.on(
                "request",
                lambda request: (
                    posted.append(request.post_data) if request.method == "POST" else None
                ),
            )

            page.goto(f"{live_server.url}/offers/")
            public_allows = page.evaluate(ALLOWS_GEOLOCATION)

            page.goto(f"{live_server.url}/offers/for/{token}/")
            person_allows = page.evaluate(ALLOWS_GEOLOCATION)
            button = page.get_by_role("button", name="Share my approximate position")
            button.wait_for(state="visible")
            before_click = list(posted)
            with page.expect_navigation():  # the script reloads the page once stored
                button.click()
            shown = page.locator("[data-location-position]").inner_text()
            cookies = context.cookies()
            context.close()
        finally:
            browser.close()

    # Database reads run after Playwright has stopped (its loop blocks the ORM).
    assert public_allows is False  # Permissions-Policy: geolocation=() everywhere else
    assert person_allows is True
    assert before_click == []  # nothing is sent before the click
    assert len(posted) == 1
    assert parse_qs(posted[0]) == {"latitude": ["51.45"], "longitude": ["-2.59"]}
    assert RAW_LATITUDE not in posted[0]
    assert "51.45, -2.59" in " ".join(shown.split())
    assert LocationFix.objects.get(subject=alice).position == "51.45,-2.59"
    assert cookies == []
    assert console_errors == []  # among others: no CSP violation
    foreign = [u for u in requests if urlsplit(u).netloc != origin.netloc]
    assert foreign == []

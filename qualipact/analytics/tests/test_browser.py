"""A real browser visits the site: the visit is counted, and the browser holds nothing.

This is the promise of cookieless analytics end to end: the count is made on the server
from the requests alone, with no cookie, no storage, no script and no request to anyone
else. Chromium is the system one (`apt-get install chromium`), never a downloaded one.
"""

from urllib.parse import urlsplit

import pytest

from conftest import (
    DESKTOP_CHROME,
    STORAGE_PROBE,
    browser_context,
    browser_launch,
    wait_until,
    watch,
)
from qualipact.analytics.models import DailySalt, DailyTotal, PageStat
from qualipact.analytics.tests.conftest import DAY


def views() -> int:
    return sum(DailyTotal.objects.values_list("views", flat=True))


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_counts_a_visit_while_the_browser_holds_no_cookie_and_no_storage(
    live_server, chromium_path, today
):
    from playwright.sync_api import sync_playwright

    origin = urlsplit(live_server.url)
    requests, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            # First the same person with Global Privacy Control on: not counted at all.
            private = browser_context(
                browser, user_agent=DESKTOP_CHROME, extra_http_headers={"Sec-GPC": "1"}
            )
            response = private.new_page().goto(live_server.url + "/")
            assert response is not None and response.status == 200
            private_cookies = private.cookies()
            private.close()

            context = browser_context(browser, user_agent=DESKTOP_CHROME)
            page = context.new_page()
            watch(page, requests, console_errors)

            for path in ("/", "/privacy/", "/contact/"):
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
            # A click within the site: a second view of the home page, same visitor,
            # with our own address as the referrer (which is not kept).
            with page.expect_navigation(url=f"{live_server.url}/"):
                page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()

            cookies = context.cookies()
            storage = page.evaluate(STORAGE_PROBE)
            context.close()

        finally:
            browser.close()

    # Database reads run after Playwright has stopped: its sync API keeps an asyncio loop
    # running in this thread, and Django refuses ORM calls while one runs.
    assert cookies == [] and private_cookies == []
    assert storage == {"local": [], "session": [], "indexedDB": [], "caches": []}
    assert requests, "the page made no requests at all: the recorder is broken"
    foreign = [
        url
        for url in requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert foreign == []
    assert console_errors == []

    # The GPC view came first: had it been counted, it would be in by now.
    # The count runs when the server closes each response, just after the browser got it.
    wait_until(lambda: views() >= 4, what="the four views to be counted")
    assert views() == 4
    total = DailyTotal.objects.get()
    assert (total.day, total.visitors, total.views) == (DAY, 1, 4)
    rows = {
        (row.path, row.referrer_domain, row.country, row.browser): (row.visitors, row.views)
        for row in PageStat.objects.all()
    }
    assert rows == {
        ("/", "", "", "Chrome"): (1, 2),
        ("/privacy/", "", "", "Chrome"): (1, 1),
        ("/contact/", "", "", "Chrome"): (1, 1),
    }
    assert DailySalt.objects.count() == 1

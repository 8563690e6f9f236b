"""What the page-view middleware counts, what it keeps, and what it leaves alone."""

import pytest
from django.apps import apps
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from qualipact.analytics import services
from qualipact.analytics.middleware import PageViewMiddleware
from qualipact.analytics.models import DailySalt, DailyTotal, PageStat, VisitorHash
from qualipact.analytics.tests.conftest import (
    CHROME,
    DAY,
    FIREFOX,
    FIREFOX_NEXT,
    IP_GB,
    IP_US,
    UA_MARKER,
)

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

TEST_URLS = "qualipact.analytics.tests.urls"


def total() -> DailyTotal | None:
    return DailyTotal.objects.filter(day=DAY).first()


def counted() -> int:
    return sum(DailyTotal.objects.values_list("views", flat=True))


def test_it_counts_a_visitor_once_per_day_and_every_view(visit):
    assert visit("/").status_code == 200
    assert visit("/").status_code == 200
    assert (total().visitors, total().views) == (1, 2)
    row = PageStat.objects.get()
    assert (row.day, row.path, row.browser, row.country) == (DAY, "/", "Firefox", "GB")
    assert (row.visitors, row.views) == (1, 2)

    # Another user agent from the same address is another visitor (same browser family).
    visit("/", ua=FIREFOX_NEXT)
    assert (total().visitors, total().views) == (2, 3)
    assert (PageStat.objects.get().visitors, PageStat.objects.get().views) == (2, 3)


def test_it_counts_each_page_for_itself_and_the_site_once(visit):
    visit("/")
    visit("/contact/")
    visit("/", ip=IP_US, ua=CHROME)
    assert (total().visitors, total().views) == (2, 3)
    rows = {(r.path, r.browser, r.country): (r.visitors, r.views) for r in PageStat.objects.all()}
    assert rows == {
        ("/", "Firefox", "GB"): (1, 1),
        ("/contact/", "Firefox", "GB"): (1, 1),
        ("/", "Chrome", "US"): (1, 1),
    }


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_it_does_not_count_a_browser_that_opted_out(visit, header):
    response = visit("/", **header)
    assert response.status_code == 200
    assert counted() == 0
    assert not DailySalt.objects.exists() and not VisitorHash.objects.exists()


@pytest.mark.parametrize(
    "ua",
    [
        "",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Wget/1.21.4",
    ],
)
def test_it_does_not_count_bots(visit, ua):
    assert visit("/", ua=ua).status_code == 200
    assert counted() == 0


def test_it_does_not_count_a_request_without_a_user_agent(client, today):
    client.get("/")  # the test client sends no User-Agent at all
    assert counted() == 0


@pytest.mark.urls(TEST_URLS)
def test_it_counts_only_successful_gets_of_html_pages(client, visit):
    page = "/analytics-test/any-method/"
    for method in ("post", "head", "put", "options"):
        response = getattr(client, method)(page, HTTP_USER_AGENT=FIREFOX)
        assert response.status_code == 200, method
    assert visit("/no-such-page/").status_code == 404
    assert visit("/.well-known/gpc.json").status_code == 200  # JSON, and well-known anyway
    assert visit("/static/web/site.css").status_code == 200
    assert visit("/contact/?kind=privacy").status_code == 200
    assert counted() == 1
    assert list(PageStat.objects.values_list("path", flat=True)) == ["/contact/"]


@pytest.mark.urls(TEST_URLS)
@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/privacy/v1/", "/privacy/v<int>/"),
        ("/analytics-test/items/4812/", "/analytics-test/items/<int>/"),
        ("/analytics-test/legacy/4812/", "[analytics_test_legacy]"),
        ("/?email=alice@example.org&q=secret", "/"),
    ],
)
def test_it_keeps_the_url_pattern_never_ids_or_query_strings(visit, url, path):
    assert visit(url).status_code == 200
    assert list(PageStat.objects.values_list("path", flat=True)) == [path]


@pytest.mark.urls(TEST_URLS)
def test_it_does_not_count_a_page_whose_pattern_has_no_name(visit):
    assert visit("/analytics-test/unnamed/4812/").status_code == 200
    assert counted() == 0


@pytest.mark.parametrize(
    ("referrer", "domain"),
    [
        ("https://news.example.com/articles/2026/alice-smith?utm_source=mail", "news.example.com"),
        ("https://WWW.Search.Example/search?q=qualipact", "www.search.example"),
        ("http://testserver/contact/", ""),  # our own site
        ("https://203.0.113.9/private/page", ""),  # an address, not a site
        ("http://intranet/home", ""),  # a bare host name
        ("android-app://com.example.reader/", ""),
        ("not a url", ""),
    ],
)
def test_it_reduces_the_referrer_to_another_sites_domain(visit, referrer, domain):
    visit("/", HTTP_REFERER=referrer)
    assert PageStat.objects.get().referrer_domain == domain


@pytest.mark.parametrize(
    ("ip", "country"),
    [(IP_GB, "GB"), (IP_US, "US"), ("127.0.0.1", ""), ("10.1.2.3", ""), ("::1", "")],
)
def test_it_keeps_the_country_of_the_address_from_iptocc(visit, ip, country):
    visit("/", ip=ip)
    assert PageStat.objects.get().country == country


def test_it_uses_the_client_address_behind_trusted_proxies(visit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    visit("/", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=IP_US)
    assert PageStat.objects.get().country == "US"


def test_it_never_sets_a_cookie_or_changes_the_response(visit):
    counted_response = visit("/", HTTP_REFERER="https://news.example.com/")
    bot_response = visit("/", ua="curl/8.5.0", HTTP_REFERER="https://news.example.com/")
    assert counted() == 1
    assert counted_response.cookies == {} and "Set-Cookie" not in counted_response
    # Byte for byte what an uncounted request gets: no header, no script, no pixel.
    assert counted_response.content == bot_response.content
    assert dict(counted_response.headers) == dict(bot_response.headers)


def test_it_stores_neither_the_address_nor_the_user_agent_anywhere(visit, caplog):
    caplog.set_level("DEBUG")
    for path in ("/", "/contact/", "/"):
        visit(path, HTTP_REFERER="https://news.example.com/")
    assert counted() == 3
    assert DailySalt.objects.count() == 1 and VisitorHash.objects.count() == 3

    forbidden = [IP_GB, FIREFOX, UA_MARKER, "Gecko/20100101", "Linux x86_64"]
    values = []
    for model in apps.get_app_config("analytics").get_models():
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.values_list(*fields):
            values.extend(row)
    assert values, "the scan found no rows: it would prove nothing"
    for value in values:
        as_text = value.hex() if isinstance(value, bytes | memoryview) else str(value)
        raw = bytes(value) if isinstance(value, bytes | memoryview) else as_text.encode()
        for secret in forbidden:
            assert secret not in as_text
            assert secret.encode() not in raw
    for secret in forbidden:
        assert secret not in caplog.text


def test_it_keeps_pages_working_when_counting_fails(visit, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError(f"database unavailable for {IP_GB} {FIREFOX}")

    monkeypatch.setattr(services, "pageview_record", broken)
    response = visit("/")
    assert response.status_code == 200
    assert "page view not counted: RuntimeError" in caplog.text
    assert IP_GB not in caplog.text and UA_MARKER not in caplog.text


def test_it_counts_after_the_response_is_closed_not_before(today):
    # The count waits for response.close(), which the server calls once the page is sent.
    request = RequestFactory().get("/", HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=IP_GB)
    request.resolver_match = resolve("/")
    middleware = PageViewMiddleware(lambda r: HttpResponse("<p>Hi</p>", content_type="text/html"))
    response = middleware(request)
    assert counted() == 0
    # As the test client does: keep the test's connection open when the request finishes.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert counted() == 1


def test_it_counts_a_view_in_a_handful_of_small_queries(visit, django_assert_max_num_queries):
    visit("/")  # creates the day's salt and the page's row
    # A returning visitor: read the salt, look up two hashes, add to two counters (plus
    # the transaction's savepoint in this test).
    with django_assert_max_num_queries(7):
        visit("/")
    # A new visitor on a new page: two hashes and the row inserted too, each in a savepoint.
    with django_assert_max_num_queries(16):
        visit("/contact/", ua=CHROME)

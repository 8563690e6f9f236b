"""The staff dashboard, and the k-anonymity threshold on everything it publishes."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from qualipact.analytics import selectors
from qualipact.analytics.models import DailyTotal, PageStat
from qualipact.analytics.selectors import K_ANONYMITY
from qualipact.analytics.tests.conftest import DAY

pytestmark = [
    pytest.mark.django_db(databases=["default", "keys"]),
    pytest.mark.urls("qualipact.analytics.tests.urls"),
]


def stat(path, visitors, *, day=DAY, referrer="", country="GB", browser="Firefox", views=None):
    return PageStat.objects.create(
        day=day,
        path=path,
        referrer_domain=referrer,
        country=country,
        browser=browser,
        views=views or visitors,
        visitors=visitors,
    )


def test_k_is_ten():
    assert K_ANONYMITY == 10


def test_it_hides_an_aggregate_of_nine_visitors_and_shows_one_of_ten():
    stat("/nine/", 9, referrer="small.example")
    stat("/ten/", 10, views=14)
    rows = selectors.published_page_stats(since=DAY, until=DAY)
    assert [(r.path, r.visitors, r.views) for r in rows] == [("/ten/", 10, 14)]


def test_it_hides_a_day_of_nine_visitors_and_shows_a_day_of_ten():
    DailyTotal.objects.create(day=DAY, visitors=9, views=20)
    DailyTotal.objects.create(day=DAY + timedelta(days=1), visitors=10, views=30)
    days = selectors.published_daily_totals(since=DAY, until=DAY + timedelta(days=2))
    assert [(d.day, d.visitors, d.views) for d in days] == [
        (DAY, None, None),
        (DAY + timedelta(days=1), 10, 30),
        (DAY + timedelta(days=2), None, None),
    ]


def test_it_sends_anonymous_visitors_to_sign_in(client, today):
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/staff/analytics/"


def test_it_refuses_signed_in_people_who_are_not_staff(client, today, member_user):
    client.force_login(member_user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 403
    assert "data-staff-only" in response.text


def test_it_refuses_staff_without_two_factor_authentication(client, today, django_user_model):
    staff = django_user_model.objects.create_user(
        username="sasha", email="sasha@example.com", is_staff=True
    )
    client.force_login(staff)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 403
    assert "data-mfa-required" in response.text
    assert reverse("mfa_index") in response.text


def test_it_shows_staff_svg_charts_of_published_figures_only(client, today, staff_user):
    DailyTotal.objects.create(day=DAY - timedelta(days=2), visitors=12, views=30)
    DailyTotal.objects.create(day=DAY - timedelta(days=1), visitors=9, views=9)
    DailyTotal.objects.create(day=DAY, visitors=25, views=61)
    stat("/pricing/", 12, views=20, referrer="news.example.com")
    stat("/privacy/v<int>/", 10, country="US", browser="Chrome")
    stat("/hidden-page/", 9, referrer="tiny.example", country="IS", browser="Lynx")
    client.force_login(staff_user)

    response = client.get(reverse("analytics:dashboard"), HTTP_USER_AGENT="Mozilla/5.0 Firefox")
    assert response.status_code == 200
    html = response.text
    assert html.count("<svg") == 2
    assert 'data-chart="daily"' in html and 'data-chart="pages"' in html
    assert html.count('class="chart-bar"') == 2
    assert "/pricing/" in html and "news.example.com" in html
    assert "/privacy/v&lt;int&gt;/" in html
    for hidden in ("/hidden-page/", "tiny.example", "IS", "Lynx"):
        assert hidden not in html
    assert "<td>12</td>" in html and "<td>25</td>" in html  # the published days
    # CSP-compatible: no script at all, no inline style, only our own stylesheet.
    assert "<script" not in html
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
    assert "/static/analytics/dashboard.css" in html
    assert "no-store" in response["Cache-Control"]
    # Looking at the statistics is not a visit to the site.
    assert not PageStat.objects.filter(path__contains="analytics").exists()


def test_it_reads_the_same_few_queries_whatever_the_data(
    client, today, staff_user, django_assert_max_num_queries
):
    for offset in range(90):
        day = DAY - timedelta(days=offset)
        DailyTotal.objects.create(day=day, visitors=20, views=40)
        for n in range(5):
            stat(f"/page-{n}/", 10 + n, day=day)
    client.force_login(staff_user)
    # Session, account, signed-in session record, the staff MFA check, then two reads.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("analytics:dashboard"), {"days": 90})
    assert response.status_code == 200
    assert "Last 90 days" in response.text


def test_it_falls_back_to_thirty_days_for_a_bad_period(client, today, staff_user):
    client.force_login(staff_user)
    for bad in ("abc", "5", "-1", "100000"):
        response = client.get(reverse("analytics:dashboard"), {"days": bad})
        assert response.status_code == 200
        assert response.context["days"] == 30

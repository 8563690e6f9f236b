"""The DPO dashboard: every number equals a count made in the test from the seeded data
(qualipact/backoffice/tests/dashboard_seed.py), every chart has its table, no personal data is
on the page, and the console's link opens it for a DPO."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import internal_in
from qualipact.backoffice import dashboard
from qualipact.backoffice.tests.dashboard_seed import FIRST_MONTH, FIRST_WEEK, NOW, REQUEST_WORDS
from qualipact.backoffice.views import dashboard as dashboard_view

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

URL = "/staff/dashboard/"
QUEUE = "/staff/rights/"
_VALUE = re.compile(r'data-value="([^"]+)">(?:<a href="([^"]*)">)?([^<]*)')


@pytest.fixture
def at_now(monkeypatch):
    """The dashboard's figures as of the seed's NOW (the rest of the site keeps real time)."""
    monkeypatch.setattr(
        dashboard_view, "dashboard_figures", partial(dashboard.dashboard_figures, now=NOW)
    )


def page_values(client) -> dict[str, tuple[str, str]]:
    """{data-value key: (number as shown, link or "")} of every number on the page."""
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    return {key: (text.strip(), link) for key, link, text in _VALUE.findall(html)}


def months() -> list[date]:
    return [
        date(
            FIRST_MONTH.year + (FIRST_MONTH.month - 1 + i) // 12,
            (FIRST_MONTH.month - 1 + i) % 12 + 1,
            1,
        )
        for i in range(12)
    ]


def test_it_counts_requests_by_kind_and_status_and_links_each_status_to_the_queue(
    dpo_client, dashboard_data, at_now
):
    from qualipact.rights.models import DataRequest

    values = page_values(dpo_client)
    for kind in DataRequest.Kind.values:
        for status in DataRequest.Status.values:
            assert values[f"requests:{kind}:{status}"][0] == str(
                dashboard_data.by_kind_status[(kind, status)]
            ), (kind, status)
        kind_total = sum(n for (k, _), n in dashboard_data.by_kind_status.items() if k == kind)
        assert values[f"requests:{kind}:all"][0] == str(kind_total)
    for status in DataRequest.Status.values:
        total = sum(n for (_, s), n in dashboard_data.by_kind_status.items() if s == status)
        assert values[f"requests:all:{status}"] == (str(total), f"{QUEUE}?status={status}")
    assert values["requests:all:all"] == ("80", f"{QUEUE}?status=all")


def test_it_counts_overdue_and_due_requests_as_the_queue_filters_them(
    dpo_client, dashboard_data, at_now
):
    values = page_values(dpo_client)
    assert dashboard_data.overdue and dashboard_data.due_week  # the seed has some of each
    assert values["deadlines:overdue"] == (str(dashboard_data.overdue), f"{QUEUE}?due=overdue")
    assert values["deadlines:week"] == (str(dashboard_data.due_week), f"{QUEUE}?due=week")
    assert values["deadlines:later"][0] == str(dashboard_data.open_later)


def test_it_gives_the_median_time_to_answer_per_month_of_the_answer(
    dpo_client, dashboard_data, at_now
):
    values = page_values(dpo_client)
    shown = 0
    for month in months():
        median = dashboard_data.median(month)
        text = values[f"median:{month:%Y-%m}"][0]
        if median is None:
            assert text == "none answered"
        else:
            assert text == f"{median:.1f}", month
            shown += 1
    assert shown >= 8  # most months had answers: the comparison above is not vacuous


def test_it_takes_the_middle_two_answers_of_an_even_month_and_ignores_older_months(alice_account):
    from qualipact.rights.models import DataRequest

    def answered(received: datetime, days: float) -> None:
        DataRequest.objects.create(
            subject=alice_account.subject,
            kind=DataRequest.Kind.ACCESS,
            status=DataRequest.Status.COMPLETED,
            channel=DataRequest.Channel.ACCOUNT,
            received_at=received,
            due_on=received.date() + timedelta(days=30),
            completed_at=received + timedelta(days=days),
        )

    base = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    for days in (1, 2, 4, 6):  # answered in February: median (2 + 4) / 2
        answered(base, days)
    answered(datetime(2025, 2, 1, tzinfo=UTC), 3)  # answered 13 months before: not shown
    figures = dashboard.dashboard_figures(now=NOW)
    by_month = dict(zip(figures.months, figures.median_days, strict=True))
    assert by_month[date(2026, 2, 1)] == pytest.approx(3.0)
    assert by_month[date(2026, 3, 1)] is None
    assert date(2025, 2, 1) not in by_month


def test_it_counts_complaints_per_month(dpo_client, dashboard_data, at_now):
    values = page_values(dpo_client)
    assert sum(dashboard_data.complaints.values()) == 6  # the general, privacy and old ones not
    for month in months():
        assert values[f"complaints:{month:%Y-%m}"][0] == str(dashboard_data.complaints[month])


def test_it_puts_a_complaint_in_the_month_of_the_site_time_zone(settings, alice_account):
    from qualipact.contact.models import Inquiry
    from qualipact.contact.services import inquiry_submit

    inquiry = inquiry_submit(
        kind="complaint", name="Ida Lund", email="ida.lund@example.org",
        subject_line="Late", message="Still waiting.",
    )  # fmt: skip
    # 23:30 on 31 January in UTC is already February in Paris.
    Inquiry.objects.filter(pk=inquiry.pk).update(
        created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    )
    figures = dashboard.dashboard_figures(now=NOW)
    assert dict(zip(figures.months, figures.complaints, strict=True))[date(2026, 1, 1)] == 1
    settings.TIME_ZONE = "Europe/Paris"
    figures = dashboard.dashboard_figures(now=NOW)
    by_month = dict(zip(figures.months, figures.complaints, strict=True))
    assert (by_month[date(2026, 1, 1)], by_month[date(2026, 2, 1)]) == (0, 1)


def test_it_counts_legal_holds_in_force_by_ground(dpo_client, dashboard_data, at_now):
    from qualipact.retention.models import LegalHold

    values = page_values(dpo_client)
    for basis in LegalHold.Basis.values:
        assert values[f"holds:{basis}"][0] == str(dashboard_data.holds[basis])
    assert sum(dashboard_data.holds.values()) == 5  # three of the eight were lifted


def test_it_counts_consent_given_and_withdrawn_per_purpose_per_week(
    dpo_client, dashboard_data, at_now
):
    from qualipact.privacy.purposes import PURPOSES, LegalBasis

    values = page_values(dpo_client)
    weeks = [FIRST_WEEK + timedelta(weeks=i) for i in range(12)]
    purposes = [p for p, d in PURPOSES.items() if d.legal_basis is LegalBasis.CONSENT]
    for purpose in purposes:
        for week in weeks:
            for action in ("grant", "withdraw"):
                key = f"consent:{purpose}:{week:%Y-%m-%d}:{action}"
                assert values[key][0] == str(dashboard_data.consent[(purpose, action, week)]), key
    assert sum(dashboard_data.consent.values()) > 50  # older events and objections left out


def test_it_draws_every_chart_beside_a_table_of_its_numbers(dpo_client, dashboard_data, at_now):
    html = dpo_client.get(URL).content.decode()
    figures = re.split(r'<section class="dashboard-(?:figure|purpose)"', html)[1:]
    charts_drawn = 0
    for figure in figures:
        for chart in re.findall(r'<svg class="chart"[^>]*data-chart="([^"]+)"', figure):
            charts_drawn += 1
            table = "requests" if chart == "requests" else chart
            assert f'data-table="{table}"' in figure, chart
    assert charts_drawn == 5 + 5  # five figures, and one chart per consent purpose
    assert html.count("<svg") == html.count('<svg class="chart"') == charts_drawn
    assert "<script" not in html.split("<main", 1)[1]


def test_it_shows_no_personal_data(dpo_client, dashboard_data, at_now, alice_account):
    response = dpo_client.get(URL)
    html = response.content.decode()
    for personal in (
        REQUEST_WORDS, "Ida Lund", "ida.lund@example.org", "Unhappy with my order",
        "Case ref 12", alice_account.username, alice_account.email,
    ):  # fmt: skip
        assert personal not in html
    assert internal_in(html.split("<main", 1)[1]) == []
    assert "no-store" in response["Cache-Control"]


def test_it_names_statuses_in_staff_words(dpo_client, dashboard_data, at_now):
    html = dpo_client.get(URL).content.decode()
    assert "Waiting for the person" in html and "Verifying identity" in html
    assert "Waiting for you" not in html and "Verifying your identity" not in html


def test_it_reads_the_same_few_queries_whatever_the_data(dpo_client, at_now, request):
    dpo_client.get(URL)  # warm: the session and the user's groups
    with CaptureQueriesContext(connection) as empty:
        dpo_client.get(URL)
    request.getfixturevalue("dashboard_data")
    with CaptureQueriesContext(connection) as seeded:
        dpo_client.get(URL)
    assert len(seeded) == len(empty)


def test_it_reads_six_aggregate_queries_for_the_figures(dashboard_data):
    with CaptureQueriesContext(connection) as queries:
        dashboard.dashboard_figures(now=NOW)
    assert len(queries) == 6
    assert all("GROUP BY" in q["sql"] or "COUNT" in q["sql"] for q in queries.captured_queries)


def test_the_console_links_a_dpo_to_the_dashboard(dpo_client):
    console = dpo_client.get("/staff/").content.decode()
    link = re.search(
        r'data-console-page="backoffice:dashboard">\s*<a href="([^"]+)">Dashboard</a>', console
    )
    assert link and link.group(1) == URL
    response = dpo_client.get(link.group(1))
    assert response.status_code == 200
    assert "<h1>DPO dashboard</h1>" in response.content.decode()


def test_it_is_not_shown_or_opened_for_a_support_agent(client, staff_account):
    from conftest import role_give
    from qualipact.web.roles import Role

    client.force_login(role_give(staff_account, Role.SUPPORT_AGENT))
    assert "backoffice:dashboard" not in client.get("/staff/").content.decode()
    assert client.get(URL).status_code == 403

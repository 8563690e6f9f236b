"""Published statistics: only aggregates that at least K_ANONYMITY visitors make up.

The dashboard reads through these functions only. Everything it shows is computed from
rows that passed the threshold, so nothing below it can be read off, summed or not.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from qualipact.analytics.models import DailyTotal, PageStat

# Smallest number of distinct visitors behind a published figure (k-anonymity).
K_ANONYMITY = 10


@dataclass(frozen=True)
class PublishedRow:
    day: date
    path: str
    referrer_domain: str
    country: str
    browser: str
    views: int
    visitors: int


@dataclass(frozen=True)
class DayCount:
    day: date
    # None: no visit, or fewer than K_ANONYMITY visitors (the two are not told apart).
    visitors: int | None
    views: int | None


@dataclass(frozen=True)
class Ranked:
    label: str
    views: int


@dataclass(frozen=True)
class Summary:
    since: date
    until: date
    days: list[DayCount]
    pages: list[Ranked]
    referrers: list[Ranked]
    countries: list[Ranked]
    browsers: list[Ranked]

    @property
    def published_days(self) -> list[DayCount]:
        return [day for day in self.days if day.visitors is not None]


def published_page_stats(*, since: date, until: date) -> list[PublishedRow]:
    """Aggregate rows of these days (inclusive) with at least K_ANONYMITY visitors."""
    rows = PageStat.objects.filter(day__range=(since, until), visitors__gte=K_ANONYMITY).order_by(
        "-day", "-views", "path", "referrer_domain", "country", "browser"
    )
    return [
        PublishedRow(
            day=row.day,
            path=row.path,
            referrer_domain=row.referrer_domain,
            country=row.country,
            browser=row.browser,
            views=row.views,
            visitors=row.visitors,
        )
        for row in rows
    ]


def published_daily_totals(*, since: date, until: date) -> list[DayCount]:
    """One entry per day (inclusive), the figures hidden below K_ANONYMITY visitors."""
    totals = {
        row.day: row
        for row in DailyTotal.objects.filter(day__range=(since, until), visitors__gte=K_ANONYMITY)
    }
    days = []
    for offset in range((until - since).days + 1):
        day = since + timedelta(days=offset)
        row = totals.get(day)
        days.append(DayCount(day, row.visitors, row.views) if row else DayCount(day, None, None))
    return days


def dashboard_summary(*, until: date, days: int, top: int = 10) -> Summary:
    """Daily visitors and the most viewed pages, referrers, countries and browsers."""
    since = until - timedelta(days=days - 1)
    rows = published_page_stats(since=since, until=until)
    return Summary(
        since=since,
        until=until,
        days=published_daily_totals(since=since, until=until),
        pages=_ranked(rows, "path", top),
        referrers=_ranked(rows, "referrer_domain", top),
        countries=_ranked(rows, "country", top, empty="unknown"),
        browsers=_ranked(rows, "browser", top),
    )


def _ranked(rows: Iterable[PublishedRow], field: str, top: int, empty: str = "") -> list[Ranked]:
    views: dict[str, int] = defaultdict(int)
    for row in rows:
        label = getattr(row, field) or empty
        if label:
            views[label] += row.views
    ranked = sorted(views.items(), key=lambda item: (-item[1], item[0]))
    return [Ranked(label, count) for label, count in ranked[:top]]

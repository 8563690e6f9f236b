"""Counting per period in the database: local-midnight boundaries, and days between."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count

from qualipact.privacy.models import DataSubject
from qualipact.privacy.periods import DaysBetween, period_index, periods_range

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def test_it_counts_rows_per_period_between_local_midnights_across_a_clock_change():
    # Weeks in Paris, where the clocks went forward on Sunday 29 March 2026.
    mondays = [datetime.combine(datetime(2026, 3, d).date(), time.min, PARIS) for d in (23, 30)]
    end = mondays[-1] + timedelta(weeks=1)
    moments = [
        datetime(2026, 3, 22, 23, 30, tzinfo=UTC),  # 00:30 Monday 23 March in Paris: week 0
        datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 Sunday in Paris (UTC+2): week 0
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # 00:30 Monday 30 March in Paris: week 1
        datetime(2026, 3, 22, 22, 30, tzinfo=UTC),  # 23:30 Sunday 22 March: before
        datetime(2026, 4, 5, 22, 0, tzinfo=UTC),  # midnight ending the last week: after
    ]
    for moment in moments:
        DataSubject.objects.filter(pk=DataSubject.objects.create().pk).update(created_at=moment)
    rows = (
        DataSubject.objects.order_by()
        .filter(periods_range("created_at", mondays, end))
        .annotate(period=period_index("created_at", mondays, end))
        .values_list("period")
        .annotate(people=Count("pk"))
    )
    assert dict(rows) == {0: 2, 1: 1}


def test_it_gives_the_days_between_two_moments_in_the_database():
    subject = DataSubject.objects.create()
    start = datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
    DataSubject.objects.filter(pk=subject.pk).update(
        created_at=start, updated_at=start + timedelta(days=2, hours=6)
    )
    days = (
        DataSubject.objects.filter(pk=subject.pk)
        .annotate(days=DaysBetween("created_at", "updated_at"))
        .values_list("days", flat=True)
        .get()
    )
    assert days == pytest.approx(2.25, abs=1e-6)

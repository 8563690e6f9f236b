"""The DPO dashboard's figures: counts and medians only, never a person or what they wrote.

Each figure is a GROUP BY query in the database (the apps' aggregate selectors); Python
only computes the boundaries of the periods (12 months, 12 weeks) and lays the results
out over them, so the work here does not grow with the number of requests. Periods
follow the current time zone (settings.TIME_ZONE), daylight saving included: their
boundaries are local midnights, and the database compares timestamps with them
(`privacy.periods`). Labels come from the models' choices and the purposes'
labels in `privacy.purposes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from qualipact.consent.selectors import consent_changes_by_period
from qualipact.contact.statistics import complaints_by_period
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.retention.selectors import legal_hold_bases, legal_holds_in_force_by_basis
from qualipact.rights.models import DataRequest
from qualipact.rights.selectors import (
    answer_median_days_by_period,
    request_counts_by_kind_and_status,
)
from qualipact.rights.services.dpo import DUE_WITHIN_DAYS, requests_waiting

MONTHS = 12
WEEKS = 12


@dataclass(frozen=True)
class KindRow:
    """One kind of request: its value, label, and (status value, count) per status, in
    the order of `DashboardFigures.statuses`."""

    kind: str
    label: str
    cells: list[tuple[str, int]]

    @property
    def counts(self) -> list[int]:
        return [count for _, count in self.cells]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Deadlines:
    """Open requests by their deadline (extensions counted), as the queue filters them."""

    overdue: int
    due_soon: int  # due today or within DUE_WITHIN_DAYS days
    later: int
    within_days: int = DUE_WITHIN_DAYS


@dataclass(frozen=True)
class PurposeWeeks:
    """A consent purpose's grants and withdrawals, one count per week of `weeks`."""

    purpose: str
    label: str
    grants: list[int]
    withdrawals: list[int]

    @property
    def rows(self) -> list[tuple[int, int]]:
        return list(zip(self.grants, self.withdrawals, strict=True))


@dataclass(frozen=True)
class DashboardFigures:
    """Everything the dashboard shows.

    `statuses` and `kinds` are (value, label) in the models' order; `kind_rows` has one row
    per kind with a count per status; `months` are the first days of the last 12 months
    (oldest first, the current one last) with `median_days` (None: nothing answered that
    month) and `complaints` per month; `weeks` are the Mondays of the last 12 weeks with
    one `PurposeWeeks` per consent purpose; `holds` is (basis value, label, holds in force).
    """

    today: date
    statuses: list[tuple[str, str]]
    kind_rows: list[KindRow]
    deadlines: Deadlines
    months: list[date]
    median_days: list[float | None]
    complaints: list[int]
    holds: list[tuple[str, str, int]]
    weeks: list[date]
    consent: list[PurposeWeeks]

    @property
    def status_totals(self) -> list[int]:
        return [sum(column) for column in zip(*(row.counts for row in self.kind_rows), strict=True)]

    @property
    def requests(self) -> int:
        return sum(row.total for row in self.kind_rows)

    @property
    def holds_in_force(self) -> int:
        return sum(count for _, _, count in self.holds)


def last_months(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months up to and including `today`'s, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def last_weeks(today: date, count: int = WEEKS) -> list[date]:
    """The Mondays of the `count` weeks up to and including `today`'s, oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(count - 1, -1, -1)]


def _start_of(day: date) -> datetime:
    # Midnight of `day` in the current time zone: where the database's periods begin too.
    return timezone.make_aware(datetime.combine(day, time.min))


def dashboard_figures(*, now: datetime | None = None) -> DashboardFigures:
    """The dashboard's figures as of `now` (default: now). Six queries, whatever the
    number of requests, events, holds or messages."""
    today = timezone.localdate(now or timezone.now())
    statuses = [
        (str(status), DataRequest.STAFF_STATUS_LABELS[status]) for status in DataRequest.Status
    ]
    by_pair = request_counts_by_kind_and_status()
    kind_rows = [
        KindRow(kind, label, [(status, by_pair.get((kind, status), 0)) for status, _ in statuses])
        for kind, label in DataRequest.Kind.choices
    ]
    open_requests = sum(
        count for (_, status), count in by_pair.items() if status in DataRequest.OPEN_STATUSES
    )
    due_soon, overdue = requests_waiting(today=today)

    months = last_months(today)
    month_starts = [_start_of(month) for month in months]
    month_end = _start_of(last_months(months[-1] + timedelta(days=31), 1)[0])
    medians = answer_median_days_by_period(starts=month_starts, end=month_end)
    complaints = complaints_by_period(starts=month_starts, end=month_end)

    weeks = last_weeks(today)
    week_starts = [_start_of(week) for week in weeks]
    changes = consent_changes_by_period(
        starts=week_starts, end=_start_of(weeks[-1] + timedelta(weeks=1))
    )
    none = [0] * len(weeks)
    consent = [
        PurposeWeeks(
            purpose.code,
            purpose.label,
            changes.get((purpose.code, "grant"), none),
            changes.get((purpose.code, "withdraw"), none),
        )
        for purpose in PURPOSES.values()
        if purpose.legal_basis is LegalBasis.CONSENT
    ]

    holds = legal_holds_in_force_by_basis()
    return DashboardFigures(
        today=today,
        statuses=statuses,
        kind_rows=kind_rows,
        deadlines=Deadlines(
            overdue=overdue, due_soon=due_soon, later=open_requests - overdue - due_soon
        ),
        months=months,
        median_days=medians,
        complaints=complaints,
        holds=[(basis, label, holds.get(basis, 0)) for basis, label in legal_hold_bases()],
        weeks=weeks,
        consent=consent,
    )

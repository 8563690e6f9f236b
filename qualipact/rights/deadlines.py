"""Deadlines for data-subject requests.

GDPR Art 12(3): answer within one month of receipt, extendable once by two further
months when the person is told, with reasons, within the first month. A period in
months ends on the same day of the later month, or on its last day when that month is
shorter (Regulation 1182/71 Art 3(2)(c)): 31 January → 28 or 29 February.

CCPA (Cal. Civ. Code 1798.130, 11 CCR 7021): answer within 45 calendar days,
extendable once by 45 more with notice inside the first 45; acknowledge within 10
business days.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Regime(StrEnum):
    GDPR = "gdpr"
    CCPA = "ccpa"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_business_days(day: date, count: int) -> date:
    """`count` weekdays after `day` (Saturday and Sunday do not count)."""
    current = day
    while count > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current


@dataclass(frozen=True)
class Deadlines:
    received: date
    regime: Regime
    due: date  # without extension
    latest_extended_due: date  # the furthest an extension may push it
    acknowledge_by: date | None  # CCPA only

    def extension_allowed(self, *, notified_on: date, new_due: date) -> bool:
        """Once, with notice inside the first period, never beyond the legal maximum."""
        return notified_on <= self.due and self.due < new_due <= self.latest_extended_due


def deadlines_for(received: date, regime: Regime) -> Deadlines:
    if regime is Regime.CCPA:
        due = received + timedelta(days=45)
        return Deadlines(
            received=received,
            regime=regime,
            due=due,
            latest_extended_due=received + timedelta(days=90),
            acknowledge_by=add_business_days(received, 10),
        )
    return Deadlines(
        received=received,
        regime=regime,
        due=add_months(received, 1),
        latest_extended_due=add_months(received, 3),
        acknowledge_by=None,
    )

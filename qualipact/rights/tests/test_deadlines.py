"""Deadline arithmetic, by example and by property (hypothesis)."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualipact.rights.deadlines import Regime, add_business_days, add_months, deadlines_for

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),
        (date(2026, 2, 28), date(2026, 3, 28)),
    ],
)
def test_a_gdpr_request_is_due_one_calendar_month_after_receipt(received, due):
    assert deadlines_for(received, Regime.GDPR).due == due


def test_a_gdpr_extension_reaches_at_most_three_months_after_receipt():
    found = deadlines_for(date(2026, 11, 30), Regime.GDPR)
    assert found.latest_extended_due == date(2027, 2, 28)
    assert found.extension_allowed(notified_on=date(2026, 12, 20), new_due=date(2027, 2, 28))
    assert not found.extension_allowed(notified_on=date(2026, 12, 31), new_due=date(2027, 2, 1))
    assert not found.extension_allowed(notified_on=date(2026, 12, 1), new_due=date(2027, 3, 1))


def test_a_californian_request_is_due_in_45_days_and_acknowledged_in_10_business_days():
    found = deadlines_for(date(2026, 11, 24), Regime.CCPA)  # a Tuesday
    assert found.due == date(2027, 1, 8)
    assert found.latest_extended_due == date(2027, 2, 22)
    assert found.acknowledge_by == date(2026, 12, 8)


@given(days)
def test_one_month_later_keeps_the_day_or_ends_the_shorter_month(received):
    due = add_months(received, 1)
    assert 28 <= (due - received).days <= 31
    assert (due.year * 12 + due.month) - (received.year * 12 + received.month) == 1
    last = calendar.monthrange(due.year, due.month)[1]
    assert due.day == received.day or (due.day == last and received.day > last)


@given(days, days)
def test_a_later_receipt_is_never_due_earlier(first, second):
    early, late = sorted((first, second))
    for regime in Regime:
        assert deadlines_for(early, regime).due <= deadlines_for(late, regime).due


@given(days, st.sampled_from(list(Regime)))
def test_the_extension_is_never_shorter_than_the_first_period(received, regime):
    found = deadlines_for(received, regime)
    assert received < found.due < found.latest_extended_due
    assert not found.extension_allowed(
        notified_on=found.due + timedelta(days=1), new_due=found.latest_extended_due
    )


@given(days, st.integers(min_value=0, max_value=60))
def test_business_days_skip_weekends_and_count_exactly(start, count):
    end = add_business_days(start, count)
    weekdays = sum(
        1
        for offset in range(1, (end - start).days + 1)
        if (start + timedelta(days=offset)).weekday() < 5
    )
    assert weekdays == count
    assert count == 0 or end.weekday() < 5

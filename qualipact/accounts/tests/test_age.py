"""The age gate's rule: the threshold per country, and the day a child reaches it."""

from datetime import date

import pytest

from qualipact.accounts import age


@pytest.mark.parametrize(
    ("country", "threshold"), [("AT", 14), ("DE", 16), ("FR", 15), ("DK", 13), ("ZZ", 14)]
)
def test_it_uses_the_countrys_threshold_or_the_default_of_14(country, threshold):
    assert age.age_threshold(country) == threshold


def test_the_default_threshold_is_configurable(settings):
    settings.CHILD_AGE_DEFAULT = 16
    assert age.age_threshold("ZZ") == 16
    assert age.age_threshold("AT") == 14


def test_a_child_is_a_child_until_the_birthday_that_reaches_the_threshold():
    born = date(2013, 5, 20)
    today = date(2026, 11, 24)  # 13 years old
    assert age.child_until(birth_date=born, country="AT", today=today) == date(2027, 5, 20)
    assert age.child_until(birth_date=born, country="DK", today=today) is None  # 13 there
    assert age.child_until(birth_date=born, country="AT", today=date(2027, 5, 20)) is None


def test_a_leap_day_birthday_reaches_the_threshold_on_28_february():
    born = date(2012, 2, 29)
    assert age.threshold_reached_on(birth_date=born, country="DE") == date(2028, 2, 29)
    assert age.threshold_reached_on(birth_date=born, country="AT") == date(2026, 2, 28)

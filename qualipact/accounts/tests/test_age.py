"""The age gate's rule: max(14, the country's age of digital consent), and the day a child
reaches it; every place that asks the age (sign-up, social sign-up, the birth-date
correction) uses that one rule, for every country the forms offer."""

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from qualipact.accounts import age
from qualipact.accounts.models import User
from qualipact.accounts.services import SocialSignupForm, account_create, children
from qualipact.privacy.countries import COUNTRIES

# The law's age of digital consent where it is above the policy's 14 (GDPR Art 8 choices);
# everywhere else, 13-year-olds included (GB, US, BE, DK, ...), the policy's 14 applies.
ABOVE_FOURTEEN = {
    "CZ": 15,
    "FR": 15,
    "GR": 15,
    "SI": 15,
    "DE": 16,
    "HR": 16,
    "HU": 16,
    "IE": 16,
    "LI": 16,
    "LU": 16,
    "NL": 16,
    "PL": 16,
    "RO": 16,
    "SK": 16,
}
EVERY_COUNTRY = [country.code for country in COUNTRIES]


def expected_threshold(country: str) -> int:
    return ABOVE_FOURTEEN.get(country, 14)


def born(today: date, *, years: int, days_short: int = 0) -> date:
    """A birth date that makes the person `years` old today, or `days_short` days less."""
    birthday = today.replace(year=today.year - years)
    return date.fromordinal(birthday.toordinal() + days_short)


@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_it_never_sets_the_threshold_below_fourteen_and_takes_a_higher_countrys_age(country):
    assert age.age_threshold(country) == expected_threshold(country)
    assert age.age_threshold(country.lower()) == expected_threshold(country)


@pytest.mark.parametrize("country", ["GB", "US", "BE", "DK", "SE", "ZZ"])
def test_it_treats_a_thirteen_year_old_as_a_child_where_the_law_says_thirteen(country):
    today = date(2026, 11, 24)
    thirteen = born(today, years=13)
    assert age.child_until(birth_date=thirteen, country=country, today=today) == date(
        thirteen.year + 14, thirteen.month, thirteen.day
    )


def test_the_default_threshold_is_configurable_but_never_below_fourteen(settings):
    settings.CHILD_AGE_DEFAULT = 16
    assert age.age_threshold("ZZ") == 16
    assert age.age_threshold("AT") == 14
    settings.CHILD_AGE_DEFAULT = 13
    assert age.age_threshold("ZZ") == 14


def test_a_child_is_a_child_until_the_birthday_that_reaches_the_threshold():
    born_on = date(2012, 5, 20)
    today = date(2026, 11, 24)  # 14 years old
    assert age.child_until(birth_date=born_on, country="DE", today=today) == date(2028, 5, 20)
    assert age.child_until(birth_date=born_on, country="AT", today=today) is None
    assert age.child_until(birth_date=born_on, country="DK", today=today) is None  # 14 there
    assert age.child_until(birth_date=born_on, country="DE", today=date(2028, 5, 20)) is None


def test_a_leap_day_birthday_reaches_the_threshold_on_28_february():
    born_on = date(2012, 2, 29)
    assert age.threshold_reached_on(birth_date=born_on, country="DE") == date(2028, 2, 29)
    assert age.threshold_reached_on(birth_date=born_on, country="AT") == date(2026, 2, 28)


def test_it_derives_the_threshold_in_one_place_only():
    """No other module reads the countries' ages: everything asks accounts.age."""
    package = Path(age.__file__).parents[1]
    readers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "CHILD_AGE_" in path.read_text()
        and "tests" not in path.parts
        and path.name not in ("age.py", "settings.py")
    )
    assert readers == []


# -- every place that asks the age, for every country -----------------------------------


def age_gate_answer(client, *, birth_date: date, country: str):
    """Sign-up step one over HTTP: the next step shows a parent's field for a child."""
    response = client.post(
        "/accounts/signup/", {"birth_date": birth_date.isoformat(), "country": country}
    )
    assert response.status_code == 200
    return response.context["child"], 'name="parent_email"' in response.text


@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_it_asks_a_parent_at_sign_up_below_the_threshold_in_every_country(client, country):
    today = timezone.localdate()
    threshold = expected_threshold(country)
    for birth_date in (born(today, years=13), born(today, years=threshold, days_short=1)):
        until, asks_parent = age_gate_answer(client, birth_date=birth_date, country=country)
        assert until is not None and asks_parent, (country, birth_date)
    until, asks_parent = age_gate_answer(
        client, birth_date=born(today, years=threshold), country=country
    )
    assert until is None and not asks_parent


@pytest.mark.django_db(databases=["default", "keys"])
@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_it_refuses_social_sign_up_below_the_threshold_in_every_country(country):
    today = timezone.localdate()
    threshold = expected_threshold(country)

    def child_until(birth_date: date) -> date | None:
        form = SocialSignupForm(
            data={"birth_date": birth_date.isoformat(), "country": country, "username": "sunny"},
            sociallogin=SimpleNamespace(state={}),
        )
        assert form.is_valid(), form.errors
        return form.child_until()

    assert child_until(born(today, years=13)) is not None
    assert child_until(born(today, years=threshold, days_short=1)) is not None
    assert child_until(born(today, years=threshold)) is None


@pytest.mark.django_db(databases=["default", "keys"])
@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_it_erases_an_account_whose_corrected_birth_date_is_below_the_threshold_anywhere(
    country, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    threshold = expected_threshold(country)
    adult = account_create(
        username="ada", email="ada.adult@example.org", password=None, email_verified=True
    )
    at_threshold = born(today, years=threshold)
    assert not children.birth_date_correct(account=adult, birth_date=at_threshold, country=country)
    assert User.objects.filter(pk=adult.pk).exists()

    thirteen = account_create(
        username="tess", email="tess.teen@example.org", password=None, email_verified=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert children.birth_date_correct(
            account=thirteen, birth_date=born(today, years=13), country=country
        )
    assert not User.objects.filter(pk=thirteen.pk).exists()

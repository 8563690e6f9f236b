"""The age gate (GDPR Art 8): below a country's threshold, a parent must consent."""

from __future__ import annotations

from datetime import date

from django.conf import settings


def age_threshold(country: str) -> int:
    """The age of digital consent in a country (13-16 in the EU), or the site default."""
    threshold = settings.CHILD_AGE_BY_COUNTRY.get(country.upper(), settings.CHILD_AGE_DEFAULT)
    return int(threshold)


def threshold_reached_on(*, birth_date: date, country: str) -> date:
    """The day the person reaches their country's threshold (29 February → 28 February)."""
    years = birth_date.year + age_threshold(country)
    try:
        return birth_date.replace(year=years)
    except ValueError:
        return birth_date.replace(year=years, day=28)


def child_until(*, birth_date: date, country: str, today: date) -> date | None:
    """For a child below the threshold, the day consent stops being needed; None for others."""
    reached = threshold_reached_on(birth_date=birth_date, country=country)
    return reached if today < reached else None

"""The age gate (GDPR Art 8, COPPA): below the threshold, a parent must consent.

The threshold is the policy's own floor, 14 (privacy policy section 9: under 14 needs a
parent's consent), raised to a country's age of digital consent where the law there asks
more: ``max(14, country)``. A country whose law says 13 (GB, US, BE, ...) therefore still
gets 14. This module is the one place that derives it; sign-up, social sign-up, the
birth-date correction and the staff underage tool all ask it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings

# Privacy policy, section 9: "Our services are specifically designed for users aged 14 and older".
POLICY_MINIMUM_AGE = 14


def age_threshold(country: str) -> int:
    """Years below which a parent must consent: max(14, the country's age of digital consent).

    `country` is an ISO 3166-1 alpha-2 code; an unknown one gets `CHILD_AGE_DEFAULT`.
    """
    law = settings.CHILD_AGE_BY_COUNTRY.get(country.upper(), settings.CHILD_AGE_DEFAULT)
    return max(POLICY_MINIMUM_AGE, int(law))


def threshold_reached_on(*, birth_date: date, country: str) -> date:
    """The day the person reaches their threshold (29 February → 28 February)."""
    years = birth_date.year + age_threshold(country)
    try:
        return birth_date.replace(year=years)
    except ValueError:
        return birth_date.replace(year=years, day=28)


def child_until(*, birth_date: date, country: str, today: date) -> date | None:
    """For a child below the threshold, the day consent stops being needed; None for others."""
    reached = threshold_reached_on(birth_date=birth_date, country=country)
    return reached if today < reached else None

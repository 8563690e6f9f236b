"""Dates in the words our emails use, the same as our pages show them.

Pages write a date with Django's `date` filter ("j F Y": "8 December 2026", in the
site's time zone); an email built in Python writes it through `long_date`, so a person
reads the same date the same way in both.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import dateformat, timezone


def long_date(value: date | datetime) -> str:
    """ "8 December 2026": the day without a leading zero, the month's name, the year.
    An aware datetime is first put in the site's time zone (settings.TIME_ZONE)."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, "j F Y")

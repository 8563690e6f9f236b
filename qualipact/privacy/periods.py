"""Counting rows per period (month, week) in the database, fast on SQLite and PostgreSQL.

Django's `TruncMonth`/`TruncWeek` are portable, but on SQLite each one is a Python
function the database calls once per row (`django_datetime_trunc`, parsing the timestamp
text every time): grouping 30,000 rows by week costs more than the rest of a page. Here
the caller gives the periods' boundaries, computed in Python once in whatever time zone
the periods follow (daylight saving included), and the database only compares each
timestamp with them: plain SQL comparisons, no function call per row, and an index on
the column narrows the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Case, Expression, F, FloatField, Func, IntegerField, Q, Value, When


def period_index(field: str, starts: Sequence[datetime], end: datetime) -> Expression:
    """A SQL expression: the index `i` of the period `[starts[i], starts[i + 1])` (the
    last one ends at `end`) that the datetime column `field` falls in. `starts` are aware
    datetimes in ascending order. Only rows inside the periods get a meaningful index:
    filter the query with `periods_range` (the same boundaries).

    The expression is a binary search of nested `CASE`s, so each row is compared with
    about log2(len(starts)) boundaries (4 for 12 periods), not with all of them."""

    def search(first: int, stop: int) -> Expression:
        if stop - first == 1:
            return Value(first, output_field=IntegerField())
        middle = (first + stop) // 2
        return Case(
            When(Q(**{f"{field}__lt": starts[middle]}), then=search(first, middle)),
            default=search(middle, stop),
            output_field=IntegerField(),
        )

    return search(0, len(starts))


def periods_range(field: str, starts: Sequence[datetime], end: datetime) -> Q:
    """The condition "`field` is inside one of the periods", for the query's WHERE."""
    return Q(**{f"{field}__gte": starts[0], f"{field}__lt": end})


class DaysBetween(Func):
    """Days (fractional) from the datetime `start` to the datetime `end`, computed by the
    database: `julianday` on SQLite (Django's date subtraction there calls Python per
    row), the epoch of the interval on PostgreSQL."""

    arity = 2
    output_field = FloatField()

    def __init__(self, start: str, end: str, **extra: Any) -> None:
        super().__init__(F(end), F(start), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)",
            arg_joiner=" - ",
            **extra,
        )

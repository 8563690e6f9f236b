from datetime import UTC, date, datetime

from qualipact.web.dates import long_date


def test_it_writes_a_date_as_the_pages_do_without_a_leading_zero():
    assert long_date(date(2026, 12, 8)) == "8 December 2026"
    assert long_date(datetime(2026, 1, 31, 23, 59, tzinfo=UTC)) == "31 January 2026"

"""Text longer than its column is refused on every database the suite runs on, as
PostgreSQL refuses it: a form or API that forgets a length check fails its tests on
SQLite too, instead of answering 500 in production only."""

import pytest
from axes.models import AccessAttempt
from django.db import DataError, transaction

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_it_refuses_a_value_longer_than_its_column_on_every_database():
    attempt = AccessAttempt(
        username="x" * 256,
        ip_address="192.0.2.1",
        user_agent="",
        path_info="/",
        failures_since_start=1,
    )
    with pytest.raises(DataError), transaction.atomic():
        attempt.save()
    assert not AccessAttempt.objects.exists()


def test_it_accepts_a_value_that_fits():
    AccessAttempt.objects.create(
        username="x" * 255,
        ip_address="192.0.2.1",
        user_agent="",
        path_info="/",
        failures_since_start=1,
    )
    assert AccessAttempt.objects.count() == 1

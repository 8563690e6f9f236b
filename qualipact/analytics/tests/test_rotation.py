"""The daily salt: one per UTC day, destroyed with its visitor hashes once the day is over."""

from datetime import timedelta

import pytest

from qualipact.analytics import services, tasks
from qualipact.analytics.models import DailySalt, DailyTotal, PageStat, VisitorHash
from qualipact.analytics.selectors import K_ANONYMITY
from qualipact.analytics.tests.conftest import DAY

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
NEXT_DAY = DAY + timedelta(days=1)


def test_it_keeps_one_random_32_byte_salt_per_day(visit):
    visit("/")
    visit("/contact/")
    salt = DailySalt.objects.get()
    assert salt.day == DAY
    assert len(bytes(salt.salt)) == 32
    assert services.salt_for_day(DAY) == bytes(salt.salt)


def test_the_first_view_of_a_new_day_destroys_yesterdays_salt_and_hashes(visit, today):
    visit("/")
    yesterdays_salt = bytes(DailySalt.objects.get().salt)
    assert VisitorHash.objects.filter(day=DAY).count() == 2  # the day's counter and the row's

    today.day = NEXT_DAY
    visit("/")
    assert list(DailySalt.objects.values_list("day", flat=True)) == [NEXT_DAY]
    assert bytes(DailySalt.objects.get().salt) != yesterdays_salt
    assert set(VisitorHash.objects.values_list("day", flat=True)) == {NEXT_DAY}
    # Yesterday's counts stay; today the same person is a new, unlinkable visitor.
    days = {t.day: (t.visitors, t.views) for t in DailyTotal.objects.all()}
    assert days == {DAY: (1, 1), NEXT_DAY: (1, 1)}


def test_the_periodic_task_destroys_past_salts_and_hashes_without_traffic(visit, today):
    visit("/")
    visit("/contact/")
    today.day = NEXT_DAY
    result = tasks.salt_rotation()
    assert "destroyed 1 salts and 3 visitor hashes" in result
    assert not DailySalt.objects.exists()
    assert not VisitorHash.objects.exists()
    assert DailyTotal.objects.get(day=DAY).views == 2


def test_it_drops_rows_of_closed_days_that_can_never_be_published(today):
    def row(day, path, visitors):
        return PageStat.objects.create(
            day=day, path=path, browser="Firefox", views=visitors, visitors=visitors
        )

    row(DAY, "/small/", K_ANONYMITY - 1)
    row(DAY, "/big/", K_ANONYMITY)
    row(NEXT_DAY, "/still-counting/", 1)
    rotation = services.salt_rotate(today=NEXT_DAY)
    assert rotation.small_rows == 1
    assert sorted(PageStat.objects.values_list("path", flat=True)) == ["/big/", "/still-counting/"]


def test_a_view_that_straddles_midnight_never_reopens_a_closed_day(today):
    assert services.salt_for_day(NEXT_DAY) is not None
    assert services.salt_for_day(DAY) is None
    view = services.PageView(path="/", referrer_domain="", country="", browser="Firefox")
    counted = services.pageview_count(
        ip="81.2.69.142", user_agent="x", host="h", view=view, day=DAY
    )
    assert counted is False
    assert list(DailySalt.objects.values_list("day", flat=True)) == [NEXT_DAY]
    assert not DailyTotal.objects.exists()

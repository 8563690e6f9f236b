from datetime import date

import pytest

from qualipact.analytics import services

# A desktop Firefox; the UA_MARKER lets a test find the string anywhere it might leak.
UA_MARKER = "QPUA7f3c9e"
FIREFOX = f"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 {UA_MARKER}"
FIREFOX_NEXT = "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
# Public addresses that iptocc places in a country (the documentation ranges are in none).
IP_GB = "81.2.69.142"
IP_US = "8.8.8.8"
DAY = date(2026, 3, 14)


@pytest.fixture
def today(monkeypatch):
    """The UTC day the counters see; set `today.day` to move the clock."""

    class Clock:
        day = DAY

    clock = Clock()
    monkeypatch.setattr(services, "utc_today", lambda: clock.day)
    return clock


@pytest.fixture
def visit(client, today):
    """GET a page as a person with a browser: a user agent and a public address."""

    def get(path="/", *, ua=FIREFOX, ip=IP_GB, **headers):
        return client.get(path, HTTP_USER_AGENT=ua, REMOTE_ADDR=ip, **headers)

    return get


@pytest.fixture
def staff_user(django_user_model):
    """A staff member with an authenticator app, as staff pages require."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = django_user_model.objects.create_user(
        username="stella", email="stella@example.com", is_staff=True
    )
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def member_user(django_user_model):
    return django_user_model.objects.create_user(username="morgan", email="morgan@example.com")

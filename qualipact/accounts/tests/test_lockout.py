"""Brute-force lockout (django-axes) through allauth's login page, and its records' retention."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import connection
from django.test import Client
from django.utils import timezone

from qualipact.accounts.events import AccountsCode
from qualipact.accounts.lockout import USERNAME_KEY_MAX, lockout_key
from qualipact.accounts.models import AccountSession, User
from qualipact.accounts.services import account_create
from qualipact.privacy.models import AuditEvent
from qualipact.retention.engine import retention_sweep
from qualipact.retention.events import RetentionCode

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
WRONG = "not the right passphrase at all"
EMAIL = "erin.lockout@example.org"
COOKIE = "__Host-qp_session"


@pytest.fixture
def erin() -> User:
    return account_create(username="erin", email=EMAIL, password=PASSWORD, email_verified=True)


def attempt(client: Client, login: str, password: str):
    return client.post("/accounts/login/", {"login": login, "password": password})


def assert_locked_out(response) -> None:
    assert response.status_code in (403, 429)
    assert b"data-locked-out" in response.content
    assert COOKIE not in response.cookies or not response.cookies[COOKIE].value


@pytest.mark.parametrize("login", ["erin", "Erin", EMAIL])
def test_it_locks_out_after_five_failures_even_with_the_right_password(erin, client, login):
    for _ in range(4):
        response = attempt(client, login, WRONG)
        assert response.status_code == 200
        assert b"data-locked-out" not in response.content
    assert_locked_out(attempt(client, login, WRONG))  # the fifth failure reaches the limit
    response = attempt(client, login, PASSWORD)
    assert_locked_out(response)
    assert not AccountSession.objects.exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/sessions/").status_code == 302


def test_it_refuses_the_sixth_attempt_with_the_settings_as_they_are(erin, client):
    for _ in range(5):
        attempt(client, "erin", WRONG)
    response = attempt(client, "erin", PASSWORD)
    assert response.status_code != 302
    assert not AccountSession.objects.exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("failed_as", "then_as"),
    [
        ("erin", EMAIL),
        ("erin", EMAIL.upper()),
        (EMAIL, "erin"),
        ("ERIN", "Erin"),
        (EMAIL.upper(), "erin"),
    ],
)
def test_it_locks_the_account_whatever_identifier_is_typed(erin, client, failed_as, then_as):
    for _ in range(5):
        attempt(client, failed_as, WRONG)
    response = attempt(client, then_as, PASSWORD)
    assert_locked_out(response)
    assert "_auth_user_id" not in client.session
    assert not AccountSession.objects.exists()
    # One record, for the account, whatever was typed.
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [
        f"account:{erin.pk.hex}"
    ]


def test_it_lets_the_owner_sign_in_from_their_address_after_failures_from_ten_others(erin, client):
    # Four failures from each of ten addresses: forty in all, below the limit of each pair.
    for n in range(10):
        attacker = Client(REMOTE_ADDR=f"203.0.113.{n + 10}")
        for login in ("erin", EMAIL, "ERIN", EMAIL):
            assert b"data-locked-out" not in attempt(attacker, login, WRONG).content
    owner = Client(REMOTE_ADDR="198.51.100.7")
    response = attempt(owner, "erin", PASSWORD)
    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


def test_it_still_locks_out_the_address_that_keeps_failing_while_the_owner_signs_in(erin):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(5):
        attempt(attacker, EMAIL, WRONG)
    assert_locked_out(attempt(attacker, "erin", PASSWORD))
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert attempt(owner, EMAIL, PASSWORD).status_code == 302


def test_it_limits_failed_sign_ins_per_client_address_and_never_per_account_alone():
    from allauth.account import app_settings

    pers = {part.split("/")[-1] for part in app_settings.RATE_LIMITS["login_failed"].split(",")}
    assert pers == {"ip"}


def test_it_audits_the_lockout_with_the_account_and_no_plaintext(erin, client):
    for _ in range(5):
        attempt(client, EMAIL, WRONG)
    event = AuditEvent.objects.filter(code=AccountsCode.ACCOUNT_LOCKED_OUT).latest("id")
    assert event.subject_id == erin.subject_id
    assert event.data == {}
    assert event.actor_id == "lockout"


def test_it_audits_a_lockout_for_an_unknown_name_without_a_subject(client):
    for _ in range(5):
        attempt(client, "nobody-here", WRONG)
    event = AuditEvent.objects.filter(code=AccountsCode.ACCOUNT_LOCKED_OUT).latest("id")
    assert event.subject_id is None


def test_it_stores_no_typed_address_or_password_in_the_lockout_tables(erin, client):
    attempt(client, EMAIL, WRONG)
    attempt(client, "someone.else@example.com", WRONG)
    rows = list(AccessAttempt.objects.order_by("attempt_time"))
    assert len(rows) == 2
    assert rows[0].username == f"account:{erin.pk.hex}"
    assert rows[1].username.startswith("email:")
    for row in rows:
        assert "@" not in row.username
        assert "example" not in row.post_data
        assert WRONG not in row.post_data
        assert "********************" in row.post_data  # axes' mask
    # Nowhere in any column, in any of the three tables.
    with connection.cursor() as cursor:
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608
            dump = repr(cursor.fetchall()).lower()
            assert "erin.lockout" not in dump
            assert "example.org" not in dump
            assert WRONG not in dump


def test_it_masks_passwords_in_stored_post_data(erin, client):
    attempt(client, "erin", WRONG)
    row = AccessAttempt.objects.get()
    assert row.username == f"account:{erin.pk.hex}"
    assert WRONG not in row.post_data
    assert "password=" in row.post_data


def test_it_keeps_other_accounts_and_addresses_unaffected(erin, client):
    account_create(
        username="frank", email="frank@example.org", password=PASSWORD, email_verified=True
    )
    for _ in range(5):
        attempt(client, "erin", WRONG)
    # Another account from the same address still signs in...
    assert attempt(client, "frank", PASSWORD).status_code == 302
    # ...and the locked name from another address too (lockout is username + address).
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert attempt(elsewhere, "erin", PASSWORD).status_code == 302


def test_it_sweeps_only_lockout_records_past_retention(client):
    for name in ("old", "edge", "fresh"):
        attempt(client, name, WRONG)
    now = timezone.now()
    AccessAttempt.objects.filter(username="old").update(attempt_time=now - timedelta(days=31))
    AccessAttempt.objects.filter(username="edge").update(attempt_time=now - timedelta(days=29))
    assert retention_sweep(model="axes.AccessAttempt")[0].done == 1
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"edge", "fresh"}
    event = AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).latest("id")
    assert (event.data["model"], event.data["rows"]) == ("axes.AccessAttempt", 1)
    assert event.subject_id is None
    assert retention_sweep(model="axes.AccessAttempt")[0].done == 0


@pytest.mark.parametrize("length", [255, 300, 5000])
def test_it_answers_an_over_long_login_with_the_form_and_stores_nothing_too_long(client, length):
    """A typed login longer than the field is refused by the form (200, the page again),
    never a server error when the failure is recorded (axes' column holds 255)."""
    login = "<b>not valid</b> \u202e" + "9" * length
    response = attempt(client, login, WRONG)
    assert response.status_code == 200
    stored = AccessAttempt.objects.values_list("username", flat=True)
    assert all(len(name or "") <= 255 for name in stored)
    response = attempt(client, "x" * length, WRONG)
    assert response.status_code == 200
    assert lockout_key("y" * length) == "y" * USERNAME_KEY_MAX

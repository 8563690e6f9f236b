"""`manage.py staff_create` and `staff_grant`: the first administrator, and recovery."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from qualipact.accounts.models import User
from qualipact.backoffice.events import BackofficeCode
from qualipact.backoffice.tests.conftest import emails_to, events, make_staff
from qualipact.web.roles import Role, roles_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

STRONG = "seven tall giraffes read poetry at noon"


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text(STRONG + "\n")
    return path


def test_it_creates_an_administrator_by_default_and_prints_the_next_steps(password_file):
    out = run(
        "staff_create", "--username", "ada", "--email", "ada@example.org",
        "--password-file", str(password_file),
    )  # fmt: skip

    user = User.objects.get(username="ada")
    assert user.is_staff and user.email_verified_at is not None and user.check_password(STRONG)
    assert roles_of(user) == {Role.ADMINISTRATOR}
    assert "/accounts/login/" in out and "authenticator app" in out and "/staff/" in out
    [created] = events(BackofficeCode.STAFF_ACCOUNT_CREATED, subject_id=user.subject_id)
    assert created.actor_kind == "system"
    [granted] = events(BackofficeCode.STAFF_ROLE_GRANTED, subject_id=user.subject_id)
    assert granted.data == {"role": "administrator"}


def test_it_creates_a_staff_account_with_the_roles_asked_for(password_file):
    run(
        "staff_create", "--username", "dora", "--email", "dora@example.org",
        "--role", "dpo", "--role", "support_agent", "--password-file", str(password_file),
    )  # fmt: skip
    assert roles_of(User.objects.get(username="dora")) == {Role.DPO, Role.SUPPORT_AGENT}


def test_it_asks_the_password_twice_on_a_terminal(monkeypatch):
    answers = iter([STRONG, STRONG])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    run("staff_create", "--username", "ada", "--email", "ada@example.org")
    assert User.objects.get(username="ada").check_password(STRONG)


def test_it_refuses_two_different_passwords_and_stores_nothing(monkeypatch):
    answers = iter([STRONG, STRONG + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    with pytest.raises(CommandError, match="differ"):
        run("staff_create", "--username", "ada", "--email", "ada@example.org")
    assert not User.objects.exists()


def test_it_refuses_a_weak_password_with_a_clear_message_exit_1_and_stores_nothing(tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("password123\n")
    with pytest.raises(CommandError, match="Nothing was stored") as caught:
        run(
            "staff_create", "--username", "ada", "--email", "ada@example.org",
            "--password-file", str(weak),
        )  # fmt: skip
    assert "too common" in str(caught.value)
    assert caught.value.returncode == 1  # what manage.py exits with
    assert not User.objects.exists() and events(BackofficeCode.STAFF_ACCOUNT_CREATED) == []


def test_it_refuses_without_a_terminal_or_a_password_file(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password-file"):
        run("staff_create", "--username", "ada", "--email", "ada@example.org")


def test_it_grants_and_removes_a_role_as_the_system_and_emails_the_person():
    make_staff("ada", Role.ADMINISTRATOR)
    dora = make_staff("dora")

    assert "Granted: Data Protection Officer" in run(
        "staff_grant", "--username", "dora", "--role", "dpo"
    )
    [granted] = events(BackofficeCode.STAFF_ROLE_GRANTED, subject_id=dora.subject_id)
    assert granted.actor_kind == "system" and granted.data == {"role": "dpo"}
    run("staff_grant", "--username", "dora", "--role", "dpo", "--remove")
    assert len(events(BackofficeCode.STAFF_ROLE_REMOVED, subject_id=dora.subject_id)) == 1
    dora.__dict__.pop("_staff_roles", None)
    assert roles_of(dora) == frozenset()
    mails = emails_to(dora.email)
    assert len(mails) == 2 and all("Data Protection Officer" in m.body for m in mails)


def test_it_refuses_to_remove_the_last_administrator_from_the_command_line():
    make_staff("ada", Role.ADMINISTRATOR)
    with pytest.raises(CommandError, match="last administrator"):
        run("staff_grant", "--username", "ada", "--role", "administrator", "--remove")


def test_it_refuses_an_unknown_username_or_a_non_staff_account():
    from conftest import account_for

    account_for("alice")
    with pytest.raises(CommandError, match="No account"):
        run("staff_grant", "--username", "nobody", "--role", "dpo")
    with pytest.raises(CommandError, match="not a staff account"):
        run("staff_grant", "--username", "alice", "--role", "dpo")


@pytest.mark.parametrize(
    ("username", "email"),
    [("x", "x@example.org"), ("bad name!", "bad@example.org"), ("valid_name", "notanemail")],
)
def test_it_refuses_a_username_or_address_the_invitation_form_would_refuse(
    password_file, username, email
):
    args = ["--username", username, "--email", email, "--password-file", str(password_file)]
    with pytest.raises(CommandError):
        call_command("staff_create", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not User.objects.filter(username=username).exists()


def test_it_gives_a_former_staff_member_access_again_with_restore(admin):
    from qualipact.backoffice.services import staff_deactivate

    dpo = make_staff("dora", Role.DPO)
    staff_deactivate(user=dpo, by=admin)
    with pytest.raises(CommandError, match="--restore"):
        call_command("staff_grant", "--username", "dora", "--role", "dpo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("staff_grant", "--username", "dora", "--role", "dpo", "--restore", stdout=out)
    dpo.refresh_from_db()
    assert dpo.is_staff and roles_of(dpo) == {Role.DPO}
    assert "staff account again" in out.getvalue()
    assert events(BackofficeCode.STAFF_RESTORED, subject_id=dpo.subject_id)
    assert [e.subject_line for e in emails_to("dora@qualipact.example")][-2:] == [
        "You are staff again",
        "Your staff roles changed",
    ]

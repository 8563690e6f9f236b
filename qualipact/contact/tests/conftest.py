"""Shared fixtures of the contact tests: staff of each queue, and a message in each."""

import pytest

from conftest import PASSWORD, role_give, submit_persona
from qualipact.web.roles import Role


def staff_sign_in(page, base: str, username: str, secret: str) -> None:
    """In a browser page: sign in as staff member `username` (the suite's password) with a
    code of the authenticator app holding `secret`, and wait for the account page."""
    from qualipact.accounts.tests.test_mfa import fresh_code

    page.goto(base + "/accounts/login/")
    page.fill("[name=login]", username)
    page.fill("[name=password]", PASSWORD)
    page.locator("[data-login-form]").get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/accounts/2fa/authenticate/")
    page.fill("[name=code]", fresh_code(secret))
    page.locator("[data-mfa-code-form]").get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/accounts/")


def staff_member(username: str, *roles: Role, totp_secret: str | None = None):
    """An active staff member with an authenticator app, holding `roles`."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from qualipact.accounts.services import account_create

    user = account_create(
        username=username,
        email=f"{username}@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    TOTP.activate(user, totp_secret or generate_totp_secret())
    for role in roles:
        role_give(user, role)
    return user


@pytest.fixture
def agent():
    """Sam, a support agent."""
    return staff_member("sam", Role.SUPPORT_AGENT)


@pytest.fixture
def colleague():
    """Sue, another support agent."""
    return staff_member("sue", Role.SUPPORT_AGENT)


@pytest.fixture
def dpo():
    """Dora, the Data Protection Officer."""
    return staff_member("dora", Role.DPO)


@pytest.fixture
def question():
    """Alice's general question: the support queue."""
    return submit_persona("alice")


@pytest.fixture
def complaint():
    """Bob's complaint: the DPO's queue."""
    return submit_persona("bob", kind="complaint")

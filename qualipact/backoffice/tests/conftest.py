"""Fixtures of the back office's staff tests: staff members made through the services,
and readers of what the outbox and the audit log hold."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, role_give


def make_staff(username: str, *roles, mfa: bool = True):
    """A staff member with `roles` (given directly, as the foundation's tests do)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from qualipact.accounts.services import account_create

    user = account_create(
        username=username,
        email=f"{username}@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    if mfa:
        TOTP.activate(user, generate_totp_secret())
    for role in roles:
        role_give(user, role)
    return user


def emails_to(address: str) -> list:
    """The outbox's emails to `address`, oldest first (decrypted)."""
    from qualipact.comms.models import OutboundEmail

    return [e for e in OutboundEmail.objects.order_by("created_at") if e.to == address]


def events(code, **filters) -> list:
    from qualipact.privacy.models import AuditEvent

    return list(AuditEvent.objects.filter(code=int(code), **filters).order_by("id"))


def invite_token(address: str) -> str:
    """The token of the newest invitation link emailed to `address`."""
    [*_, email] = [e for e in emails_to(address) if "invited" in e.subject_line]
    return re.search(r"/join-staff/([^/\s]+)/", email.body).group(1)


@pytest.fixture
def admin():
    from qualipact.web.roles import Role

    return make_staff("ada", Role.ADMINISTRATOR)


@pytest.fixture
def agent():
    from qualipact.web.roles import Role

    return make_staff("sam", Role.SUPPORT_AGENT)

"""Fixtures of the back office's tests: staff in each role (made as the foundation's tests
make them), a person with data, and readers of what the outbox and the audit log hold."""

from __future__ import annotations

import re

import pytest

from conftest import PERSONAS, submit_persona
from qualipact.backoffice.tests.test_staff_urls import staff_member
from qualipact.backoffice.tests.test_staff_urls import staff_member as make_staff
from qualipact.comms import tasks as comms_tasks
from qualipact.web.roles import Role


@pytest.fixture
def no_broker(monkeypatch):
    """Queued email stays queued (deliver_queued sends it): no broker in these tests."""
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


@pytest.fixture
def officer():
    """Sam, a security officer with an authenticator app."""
    return staff_member("sam", Role.SECURITY_OFFICER)


@pytest.fixture
def dana():
    """Dana, a Data Protection Officer with an authenticator app."""
    return staff_member("dana", Role.DPO)


ALICE_USERNAME = "alicemarchetti"
WRONG = "My surname is spelt Marketti"
RIGHT = "Marchetti, with ch"


@pytest.fixture
def alice_seeded():
    """Alice with an account, a contact message and an access request, and every plaintext
    value of hers that a staff page could show."""
    from conftest import PASSWORD
    from qualipact.accounts.services import account_create
    from qualipact.privacy.audit import Actor
    from qualipact.rights import services as rights
    from qualipact.rights.models import DataRequest

    persona = PERSONAS["alice"]
    account = account_create(
        username=ALICE_USERNAME, email=persona["email"], password=PASSWORD, email_verified=True
    )
    inquiry = submit_persona("alice")
    request = rights.request_submit(
        subject=account.subject,
        kind="rectification",
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(account.subject.pk),
        details={"correction": f"What is wrong: {WRONG}\nWhat it should be: {RIGHT}"},
        verified=True,
    )
    values = [
        ALICE_USERNAME,
        persona["name"],
        persona["email"],
        persona["phone"],
        persona["postal_address"],
        persona["subject_line"],
        persona["message"],
        WRONG,
        RIGHT,
    ]
    return {"account": account, "inquiry": inquiry, "request": request, "values": values}


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

    return make_staff("sid", Role.SUPPORT_AGENT)


# The DPO dashboard's seed and what it should show (a module of its own: it is long).
from qualipact.backoffice.tests.dashboard_seed import dashboard_data  # noqa: E402, F401

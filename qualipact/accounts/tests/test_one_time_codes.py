"""Every one-time code and link works once, across every flow.

Authenticator-app codes: the time step a code belongs to is claimed in the database by
enrolment, sign-in and re-authentication alike (MFA removal and every sensitive change
ask for re-authentication), so a code typed in one flow is refused in every other, even
when the cache that allauth keeps its own note in is lost. The clock allauth reads is
held still, so "within its 30 seconds" is exact, not a race against the machine.
"""

import re
import types

import pyotp
import pytest
from allauth.mfa.totp.internal import auth as totp_auth
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import UsedOneTimeCode
from qualipact.accounts.services import account_create, children
from qualipact.comms import tasks as comms_tasks
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.retention.engine import retention_sweep

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
SIGN_IN_CODE = "/accounts/2fa/authenticate/"
REAUTH_CODE = "/accounts/2fa/reauthenticate/"
START = 1_899_999_990  # a fixed instant at the start of a 30 s step (a multiple of 30)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


@pytest.fixture
def clock(monkeypatch):
    """allauth's TOTP clock, held at START + 10 s until a test moves it."""
    now = types.SimpleNamespace(value=START + 10)
    monkeypatch.setattr(totp_auth, "time", types.SimpleNamespace(time=lambda: now.value))
    return now


@pytest.fixture
def member():
    return account_create(
        username="mira", email="mira.holm@example.org", password=PASSWORD, email_verified=True
    )


def code_at(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock.value)


def sign_in_password(client) -> None:
    response = client.post("/accounts/login/", {"login": "mira", "password": PASSWORD})
    assert response.status_code == 302


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def enrol(client, clock) -> tuple[str, str]:
    """Enrol an authenticator app with the current code; returns (secret, that code)."""
    sign_in_password(client)
    client.post(
        "/accounts/reauthenticate/",
        {"password": PASSWORD, "next": "/accounts/2fa/totp/activate/"},
    )
    page = client.get("/accounts/2fa/totp/activate/")
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", page.text).group(1)
    code = code_at(secret, clock)
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302, response.text
    return secret, code


def second_factor(client, code: str):
    return client.post(SIGN_IN_CODE, {"code": code})


def test_it_refuses_the_enrolment_code_at_sign_in_within_its_window(client, member, clock):
    secret, enrolment_code = enrol(client, clock)
    client.post("/accounts/logout/")

    clock.value += 15  # the same 30 s step: the code is still "current"
    assert code_at(secret, clock) == enrolment_code
    sign_in_password(client)
    replay = second_factor(client, enrolment_code)
    assert replay.status_code == 200 and "Incorrect code" in replay.text
    assert not signed_in(client)

    clock.value += 30  # the next step's code works
    assert second_factor(client, code_at(secret, clock)).status_code == 302
    assert signed_in(client)


def test_it_refuses_the_enrolment_code_at_re_authentication(client, member, clock):
    secret, enrolment_code = enrol(client, clock)
    response = client.post(REAUTH_CODE, {"code": enrolment_code})
    assert response.status_code == 200 and "Incorrect code" in response.text
    clock.value += 30
    response = client.post(REAUTH_CODE, {"code": code_at(secret, clock)})
    assert response.status_code == 302


def test_it_refuses_a_sign_in_code_at_re_authentication_and_in_another_browser(
    client, member, clock
):
    secret, _ = enrol(client, clock)
    client.post("/accounts/logout/")
    clock.value += 30
    code = code_at(secret, clock)
    sign_in_password(client)
    assert second_factor(client, code).status_code == 302

    # Re-authentication (which removing the app or changing the password asks for).
    response = client.post(REAUTH_CODE, {"code": code})
    assert response.status_code == 200 and "Incorrect code" in response.text
    # Someone who watched the code being typed, in their own browser.
    other = Client()
    sign_in_password(other)
    assert second_factor(other, code).status_code == 200
    assert not signed_in(other)


def test_it_keeps_a_used_code_used_when_the_cache_is_lost(client, member, clock):
    secret, _ = enrol(client, clock)
    client.post("/accounts/logout/")
    clock.value += 30
    code = code_at(secret, clock)
    sign_in_password(client)
    assert second_factor(client, code).status_code == 302

    cache.clear()  # a restarted Redis, an evicted key: allauth's own note is gone
    other = Client()
    sign_in_password(other)
    assert second_factor(other, code).status_code == 200
    assert not signed_in(other)


def test_it_audits_a_refused_reuse_without_the_code(client, member, clock):
    _, enrolment_code = enrol(client, clock)
    client.post("/accounts/logout/")
    sign_in_password(client)
    second_factor(client, enrolment_code)
    event = AuditEvent.objects.get(code=AccountsCode.ONE_TIME_CODE_REUSED)
    assert event.subject_id == member.subject_id
    assert event.data == {"kind": "totp", "flow": "sign_in"}
    assert enrolment_code not in str(event.data)


def test_it_forgets_used_steps_after_a_day(member, clock):
    from datetime import timedelta

    from django.utils import timezone

    UsedOneTimeCode.objects.create(subject=member.subject, kind="totp", step=1)
    UsedOneTimeCode.objects.create(
        subject=member.subject,
        kind="totp",
        step=2,
        used_at=timezone.now() - timedelta(days=2),
    )
    assert retention_sweep(model="accounts.UsedOneTimeCode")[0].done == 1
    assert list(UsedOneTimeCode.objects.values_list("step", flat=True)) == [1]


def test_it_accepts_each_recovery_code_once_across_sign_in_and_re_authentication(
    client, member, clock
):
    enrol(client, clock)
    page = client.get("/accounts/2fa/recovery-codes/")
    first, second = re.findall(r"<li><code>(\w+)</code></li>", page.text)[:2]
    client.post("/accounts/logout/")

    sign_in_password(client)
    assert second_factor(client, first).status_code == 302
    assert client.post(REAUTH_CODE, {"code": first}).status_code == 200  # used
    assert client.post(REAUTH_CODE, {"code": second}).status_code == 302
    client.post("/accounts/logout/")
    sign_in_password(client)
    for used in (first, second):
        assert second_factor(client, used).status_code == 200
    assert not signed_in(client)


# -- single-use links ---------------------------------------------------------------------


def test_it_accepts_a_password_reset_link_once(member):
    from django.contrib.auth.tokens import default_token_generator
    from django.core import signing

    from qualipact.accounts.services import password_reset_complete
    from qualipact.accounts.services.accounts import RESET_SALT

    token = signing.dumps(
        {"u": member.pk.hex, "t": default_token_generator.make_token(member)}, salt=RESET_SALT
    )
    password_reset_complete(token=token, password="a brand new passphrase for mira")
    with pytest.raises(ApplicationError):
        password_reset_complete(token=token, password="and yet another one for mira")
    member.refresh_from_db()
    assert member.check_password("a brand new passphrase for mira")


def test_it_accepts_a_parental_consent_link_once():
    from qualipact.accounts.tests.test_children import child_sign_up, consent_token

    parents = [
        account_create(
            username=name, email=f"{name}@example.org", password=PASSWORD, email_verified=True
        )
        for name in ("pat", "quinn")
    ]
    child = child_sign_up()
    token = consent_token(child)
    children.parental_consent_grant(token=token, parent=parents[0])
    with pytest.raises(ApplicationError):
        children.parental_consent_grant(token=token, parent=parents[1])
    with pytest.raises(ApplicationError):
        children.parental_consent_decline(token=token)
    assert children.children_of(parents[0]) == [child]
    assert children.children_of(parents[1]) == []


def test_it_accepts_an_emailed_rights_code_once():
    from conftest import run_deferred
    from qualipact.comms.models import OutboundEmail
    from qualipact.rights import services as rights

    account_create(username="kelly", email="kelly@example.org", password=None)
    ticket = rights.request_by_email(email="kelly@example.org", kind="access")
    run_deferred()
    [mail] = [e for e in OutboundEmail.objects.all() if "Your code is" in e.body]
    code = re.search(r"Your code is (\d{6})", mail.body).group(1)
    rights.request_verify(ticket=ticket, code=code)
    with pytest.raises(rights.InvalidVerification):
        rights.request_verify(ticket=ticket, code=code)


def test_it_hands_an_export_over_once():
    from qualipact.comms.models import OutboundEmail
    from qualipact.privacy.audit import Actor
    from qualipact.rights.models import DataRequest, ExportFile
    from qualipact.rights.services import fulfil, request_submit

    member = account_create(username="kelly", email="kelly@example.org", password=None)
    request = request_submit(
        subject=member.subject,
        kind="access",
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(member.subject_id),
    )
    fulfil.request_fulfil(request_id=request.pk)
    [mail] = [e for e in OutboundEmail.objects.all() if "/rights/download/" in e.body]
    token = re.search(r"/rights/download/([A-Za-z0-9_-]+)/", mail.body).group(1)
    _, content = fulfil.export_download(token=token)
    assert content
    with pytest.raises(ApplicationError):
        fulfil.export_download(token=token)
    export = ExportFile.objects.get(request=request)
    assert export.sealed is None and export.downloaded_at is not None

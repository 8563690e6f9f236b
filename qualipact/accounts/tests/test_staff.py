"""Staff pages open only to staff who set up a second factor, and signed in with it."""

import re
import uuid

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import SESSION_KEY

from conftest import url_routes
from qualipact.accounts.services import account_create
from qualipact.accounts.tests.test_mfa import fresh_code
from qualipact.web.roles import has_mfa

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
DASHBOARD = "/staff/analytics/"


def staff_paths() -> list[str]:
    """Every page whose address has a `staff/` part, with sample values for its parameters."""
    found = []
    for route in url_routes():
        if re.search(r"(^|/)staff/", route):
            path = re.sub(r"<uuid:\w+>", str(uuid.uuid4()), route)
            found.append(re.sub(r"<(int:)?\w+>", "1", path))
    return sorted(set(found))


@pytest.fixture
def member():
    return account_create(
        username="morgan", email="morgan@example.com", password=PASSWORD, email_verified=True
    )


@pytest.fixture
def staff_without_mfa():
    return account_create(
        username="sasha",
        email="sasha@example.com",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )


@pytest.fixture
def staff_secret():
    user = account_create(
        username="stella",
        email="stella@example.com",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def test_it_finds_the_staff_pages_it_guards():
    assert DASHBOARD in staff_paths()


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_sends_anonymous_visitors_to_sign_in_from_every_staff_page(client, method):
    for path in staff_paths():
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_people_who_are_not_staff_on_every_staff_page(client, member, method):
    client.force_login(member)
    for path in staff_paths():
        response = getattr(client, method)(path)
        assert response.status_code == 403, path
        assert "data-staff-only" in response.text, path


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_staff_without_a_second_factor_on_every_staff_page(
    client, staff_without_mfa, method
):
    client.force_login(staff_without_mfa)
    for path in staff_paths():
        response = getattr(client, method)(path)
        assert response.status_code == 403, path
        # The page says why, and where to set a second factor up.
        assert "data-mfa-required" in response.text, path
        assert 'href="/accounts/2fa/"' in response.text, path


def test_it_counts_an_authenticator_app_or_a_passkey_but_not_recovery_codes_alone(
    staff_without_mfa,
):
    assert not has_mfa(staff_without_mfa)
    Authenticator.objects.create(
        user=staff_without_mfa, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00"}
    )
    assert not has_mfa(staff_without_mfa)
    Authenticator.objects.create(
        user=staff_without_mfa, type=Authenticator.Type.WEBAUTHN, data={"name": "Key"}
    )
    assert has_mfa(staff_without_mfa)


def test_it_gives_no_staff_session_for_the_password_alone_once_totp_is_set_up(client, staff_secret):
    response = client.post("/accounts/login/", {"login": "stella", "password": PASSWORD})
    assert response.headers["Location"] == "/accounts/2fa/authenticate/"
    assert SESSION_KEY not in client.session
    # Half-way through signing in, the staff page still sends to sign-in.
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")

    client.post("/accounts/2fa/authenticate/", {"code": fresh_code(staff_secret)})
    assert SESSION_KEY in client.session
    assert client.get(DASHBOARD).status_code == 200


def test_it_opens_the_staff_page_once_a_staff_member_sets_up_an_authenticator_app(
    client, staff_without_mfa
):
    client.post("/accounts/login/", {"login": "sasha", "password": PASSWORD})
    assert client.get(DASHBOARD).status_code == 403

    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", page.text).group(1)
    client.post("/accounts/2fa/totp/activate/", {"code": fresh_code(secret)})
    assert has_mfa(staff_without_mfa)
    assert client.get(DASHBOARD).status_code == 200

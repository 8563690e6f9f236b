"""Social login through OpenID Connect, against a real provider running on 127.0.0.1.

The Django test client plays the browser on our side; the hop to the provider's authorize
endpoint is a real HTTP request, and allauth talks to the provider's discovery, JWKS,
token and userinfo endpoints over HTTP as it would to Google or LinkedIn.
"""

import copy
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from conftest import WAIT_LIMIT_SECONDS
from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import ExternalProfile, User
from qualipact.accounts.services import account_create
from qualipact.accounts.tests.oidc_provider import OIDCProvider, ProviderUser
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.models import DataSubject

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

CLIENT_ID = "qualipact-test.apps.example"
CLIENT_SECRET = "test-client-secret-5f1d0c3a9b"
LOGIN = "/accounts/oidc/google/login/"
CALLBACK = "/accounts/oidc/google/login/callback/"
SIGNUP = "/accounts/3rdparty/signup/"
ADA = ProviderUser(sub="google-1001", email="ada.lovelace@example.org", name="Ada Lovelace")
ADULT = {"birth_date": "1990-05-17", "country": "FR", "username": "ada.l"}


@pytest.fixture
def provider(settings):
    oidc = OIDCProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris={f"http://testserver{CALLBACK}"},
        user=ADA,
    ).start()
    # allauth's calls to the provider wait as long as a slow machine needs (5 s by default).
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = WAIT_LIMIT_SECONDS
    # The same app settings as production (settings.SOCIALACCOUNT_PROVIDERS), pointed at
    # the local provider. allauth does not insist on https for the provider's URLs.
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "google",
                    "name": "Google",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {
                        "server_url": oidc.issuer,
                        "oauth_pkce_enabled": True,
                        "token_auth_method": "client_secret_post",
                    },
                }
            ],
        }
    }
    yield oidc
    oidc.stop()


def sign_in_with_provider(client, provider):
    """Start at our login URL, pass through the provider, come back to the callback."""
    start = client.post(LOGIN)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    answer = requests.get(authorize, allow_redirects=False, timeout=WAIT_LIMIT_SECONDS)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == CALLBACK
    return client.get(f"{back.path}?{back.query}")


def sign_up_with_provider(client, provider, **answers):
    callback = sign_in_with_provider(client, provider)
    assert callback.status_code == 302 and callback.headers["Location"] == SIGNUP
    return client.post(SIGNUP, {**ADULT, **answers})


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


def rows_of(*models):
    """Every stored row of these tables, as text: what a database dump would show."""
    text = []
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            text.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(text)


def test_it_shows_the_age_gate_before_creating_anything(client, provider):
    callback = sign_in_with_provider(client, provider)

    assert callback.status_code == 302 and callback.headers["Location"] == SIGNUP
    form = client.get(SIGNUP)
    assert form.status_code == 200
    html = form.content.decode()
    for name in ("birth_date", "country", "username"):
        assert f'name="{name}"' in html
    assert 'value="ada.lovelace"' in html  # a username suggested from the name, no "@"
    assert "Google" in html
    assert User.objects.count() == 0
    assert SocialAccount.objects.count() == 0
    assert ExternalProfile.objects.count() == 0
    # The provider saw a PKCE verifier and our client secret at its token endpoint.
    (token_request,) = provider.token_requests
    assert token_request["code_verifier"] and token_request["client_secret"] == CLIENT_SECRET
    # While the form is open, the provider's answer waits in the session encrypted.
    assert ADA.email not in rows_of(Session)
    assert ADA.name not in rows_of(Session)


def test_it_creates_the_account_with_the_address_encrypted_everywhere(client, provider):
    done = sign_up_with_provider(client, provider)

    assert done.status_code == 302 and done.headers["Location"] == "/accounts/"
    user = User.objects.get()
    assert signed_in_user_id(client) == str(user.pk)
    assert user.username == "ada.l"
    assert user.email == ADA.email
    assert user.email_verified_at is not None  # the provider's email_verified counts
    assert not user.has_usable_password()
    assert user.child_until is None
    account = SocialAccount.objects.get()
    assert (account.user_id, account.provider, account.uid) == (user.pk, "google", ADA.sub)
    assert account.extra_data == {}
    profile = ExternalProfile.objects.get()
    assert profile.subject_id == user.subject_id
    assert (profile.provider, profile.uid, profile.name, profile.email) == (
        "google",
        ADA.sub,
        ADA.name,
        ADA.email,
    )
    assert profile.email_verified is True
    assert EmailAddress.objects.count() == 0
    stored = rows_of(User, ExternalProfile, SocialAccount, EmailAddress, Session)
    assert ADA.email not in stored
    assert ADA.email.split("@")[0] not in stored
    assert ADA.name not in stored
    assert client.get("/accounts/").status_code == 200


def test_it_signs_in_to_the_same_account_the_second_time(client, provider):
    sign_up_with_provider(client, provider)
    user = User.objects.get()
    provider.user = ProviderUser(sub=ADA.sub, email=ADA.email, name="Ada King")

    other_browser = Client()
    callback = sign_in_with_provider(other_browser, provider)

    assert callback.status_code == 302 and callback.headers["Location"] == "/accounts/"
    assert signed_in_user_id(other_browser) == str(user.pk)
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 1
    assert SocialAccount.objects.get().extra_data == {}
    # What the provider says is refreshed on each sign-in.
    assert ExternalProfile.objects.get().name == "Ada King"
    assert "Ada King" not in rows_of(ExternalProfile, SocialAccount)


@pytest.mark.parametrize("tamper", ["signature", "audience"])
def test_it_refuses_an_id_token_it_cannot_trust(client, provider, tamper):
    provider.tamper = tamper

    callback = sign_in_with_provider(client, provider)

    assert callback.status_code == 401
    assert 'data-refused="provider-error"' in callback.content.decode()
    assert signed_in_user_id(client) is None
    assert "socialaccount_sociallogin" not in client.session
    assert User.objects.count() == 0
    assert SocialAccount.objects.count() == 0
    assert ExternalProfile.objects.count() == 0
    assert ADA.email not in rows_of(Session)


def test_it_refuses_a_forged_id_token_for_an_existing_account_too(client, provider):
    sign_up_with_provider(client, provider)
    provider.tamper = "signature"

    other_browser = Client()
    callback = sign_in_with_provider(other_browser, provider)

    assert callback.status_code == 401
    assert signed_in_user_id(other_browser) is None
    assert "GET /jwks" in provider.requests  # checked against the published keys


def test_it_refuses_social_sign_up_below_the_age_of_digital_consent(client, provider):
    today = date.today()
    ten_years_old = today.replace(year=today.year - 10, day=min(today.day, 28))

    refused = sign_up_with_provider(
        client, provider, birth_date=ten_years_old.isoformat(), country="DE"
    )

    assert refused.status_code == 403
    html = refused.content.decode()
    assert 'data-refused="child"' in html
    assert 'href="/accounts/signup/"' in html  # the normal sign-up asks a parent
    assert User.objects.count() == 0
    assert DataSubject.objects.count() == 0
    assert SocialAccount.objects.count() == 0
    assert ExternalProfile.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert Session.objects.count() == 0  # not even the flow's session is kept


def test_it_does_not_take_over_an_account_with_the_same_address(client, provider):
    owner = account_create(
        username="ada", email=ADA.email, password="correct horse battery staple 42",
        email_verified=True,
    )  # fmt: skip
    provider.user = ProviderUser(sub="google-666", email=ADA.email, name="Not Ada")

    answer = sign_in_with_provider(client, provider)

    assert answer.status_code == 409
    html = answer.content.decode()
    assert 'data-refused="email-in-use"' in html
    assert 'href="/accounts/3rdparty/"' in html  # connect from the account, once signed in
    assert signed_in_user_id(client) is None
    assert SocialAccount.objects.count() == 0
    assert ExternalProfile.objects.count() == 0
    assert User.objects.get() == owner
    # Nor does the sign-up form, reached another way, create a second account.
    assert client.post(SIGNUP, ADULT).status_code == 302
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 0


def test_it_never_signs_in_a_child_through_a_provider(client, provider):
    today = date.today()
    child = account_create(
        username="kim",
        email="kim@example.org",
        password=None,
        email_verified=True,
        child_until=today.replace(year=today.year + 3, day=min(today.day, 28)),
    )
    SocialAccount.objects.create(user=child, provider="google", uid="google-kid", extra_data={})
    provider.user = ProviderUser(sub="google-kid", email="kim@example.org", name="Kim")

    answer = sign_in_with_provider(client, provider)

    assert answer.status_code == 403
    assert 'data-refused="child"' in answer.content.decode()
    assert signed_in_user_id(client) is None
    assert ExternalProfile.objects.count() == 0


def test_it_sends_our_confirmation_when_the_provider_has_not_verified_the_address(client, provider):
    provider.user = ProviderUser(
        sub="google-2002", email="grace.hopper@example.org", name="Grace", email_verified=False
    )

    answer = sign_up_with_provider(client, provider, username="grace")

    user = User.objects.get()
    assert user.email_verified_at is None
    assert answer.status_code == 403  # usable only once the address is confirmed
    assert 'data-not-ready="email"' in answer.content.decode()
    assert signed_in_user_id(client) is None
    (queued,) = OutboundEmail.objects.all()
    assert queued.subject_id == user.subject_id
    assert ExternalProfile.objects.get().email_verified is False


def test_it_configures_a_provider_only_when_its_client_id_is_set(monkeypatch, tmp_path):
    from qualipact.settings import _social_app

    secret_file = tmp_path / "google-secret"
    secret_file.write_text("secret-from-file\n")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "id-from-env")
    monkeypatch.delenv("GOOGLE_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET_FILE", str(secret_file))
    monkeypatch.delenv("LINKEDIN_CLIENT_ID", raising=False)

    (app,) = _social_app(
        "GOOGLE", provider_id="google", name="Google", server_url="https://accounts.google.com"
    )
    assert app["provider_id"] == "google" and app["client_id"] == "id-from-env"
    assert app["secret"] == "secret-from-file"
    assert app["settings"]["server_url"] == "https://accounts.google.com"
    assert app["settings"]["oauth_pkce_enabled"] is True
    assert _social_app("LINKEDIN", provider_id="linkedin", name="LinkedIn", server_url="x") == []


def test_it_provider_only_sends_codes_to_registered_redirect_uris(provider):
    # The test provider itself: it only sends a code back to a registered redirect URI.
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": "http://evil.example/cb",
        "response_type": "code",
        "scope": "openid email",
        "state": "s1",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    refused = requests.get(
        f"{provider.issuer}/authorize",
        params=query,
        allow_redirects=False,
        timeout=WAIT_LIMIT_SECONDS,
    )
    assert refused.status_code == 400
    query["redirect_uri"] = f"http://testserver{CALLBACK}"
    answer = requests.get(
        f"{provider.issuer}/authorize",
        params=query,
        allow_redirects=False,
        timeout=WAIT_LIMIT_SECONDS,
    )
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["s1"] and back["code"]


def test_it_connects_a_provider_to_a_signed_in_account(client, provider):
    from qualipact.privacy.models import AuditEvent

    owner = account_create(
        username="ada", email=ADA.email, password="correct horse battery staple 42",
        email_verified=True,
    )  # fmt: skip
    signed_in = client.post(
        "/accounts/login/", {"login": "ada", "password": "correct horse battery staple 42"}
    )
    assert signed_in.status_code == 302
    page = client.get("/accounts/3rdparty/")
    assert page.status_code == 200 and "Connect Google" in page.content.decode()

    start = client.post(f"{LOGIN}?process=connect")
    answer = requests.get(
        start.headers["Location"], allow_redirects=False, timeout=WAIT_LIMIT_SECONDS
    )
    back = urlsplit(answer.headers["Location"])
    connected = client.get(f"{back.path}?{back.query}")

    assert connected.status_code == 302 and connected.headers["Location"] == "/accounts/3rdparty/"
    account = SocialAccount.objects.get()
    assert (account.user_id, account.uid, account.extra_data) == (owner.pk, ADA.sub, {})
    assert ExternalProfile.objects.get().subject_id == owner.subject_id
    assert AuditEvent.objects.filter(
        code=AccountsCode.ACCOUNT_SOCIAL_LINKED, subject_id=owner.subject_id
    ).exists()
    assert EmailAddress.objects.count() == 0
    listed = client.get("/accounts/3rdparty/").content.decode()
    assert ADA.sub not in listed and "Google" in listed
    # From now on, Google signs in to this account.
    other_browser = Client()
    assert sign_in_with_provider(other_browser, provider).status_code == 302
    assert signed_in_user_id(other_browser) == str(owner.pk)


def test_it_shows_and_erases_the_provider_link_with_the_rest_of_the_account(client, provider):
    from qualipact.accounts.services import account_delete
    from qualipact.privacy.audit import Actor
    from qualipact.privacy.selectors import subject_collect

    sign_up_with_provider(client, provider)
    user = User.objects.get()

    collected = repr(subject_collect(user.subject))
    assert "SocialAccount" in collected and ADA.sub in collected
    assert ADA.email in collected  # the profile, decrypted for the person

    account_delete(user=user, actor=Actor.subject(user.subject_id))

    assert SocialAccount.objects.count() == 0
    assert ExternalProfile.objects.count() == 0
    assert User.objects.count() == 0


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_signs_up_with_google_in_a_real_browser(live_server, chromium_path, provider, settings):
    from playwright.sync_api import expect, sync_playwright

    from conftest import STORAGE_PROBE, browser_context, browser_launch, watch

    provider.redirect_uris.add(f"{live_server.url}{CALLBACK}")
    # As settings.SOCIALACCOUNT_FORM_ACTION_ORIGINS does for Google and LinkedIn: the
    # browser checks the redirect to the provider against the CSP's form-action.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [
        *policy["DIRECTIVES"]["form-action"],
        provider.issuer,
    ]
    settings.CONTENT_SECURITY_POLICY = policy
    site = urlsplit(live_server.url)
    seen, console_errors = [], []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser)
            page = context.new_page()
            watch(page, seen, console_errors)
            page.goto(f"{live_server.url}/accounts/login/")
            page.get_by_role("link", name="Google").click()
            # allauth asks before leaving for the provider (no sign-in on a mere GET).
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url(f"{live_server.url}{SIGNUP}")
            expect(page.locator("input[name=username]")).to_have_value("ada.lovelace")
            page.fill("input[name=birth_date]", "1990-05-17")
            page.select_option("select[name=country]", "FR")
            page.get_by_role("button", name="Create account").click()
            page.wait_for_url(f"{live_server.url}/accounts/")
            cookies = context.cookies()
            storage = page.evaluate(STORAGE_PROBE)
            context.close()
        finally:
            browser.close()

    assert [cookie["name"] for cookie in cookies] == ["__Host-qp_session"]
    assert storage == {"local": [], "session": [], "indexedDB": [], "caches": []}
    assert console_errors == []
    elsewhere = {
        urlsplit(url).netloc + urlsplit(url).path
        for url in seen
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (site.scheme, site.netloc)
    }
    assert elsewhere == {urlsplit(provider.issuer).netloc + "/authorize"}
    user = User.objects.get()
    assert user.username == "ada.lovelace" and user.email == ADA.email
    assert SocialAccount.objects.get().extra_data == {}
    assert ExternalProfile.objects.get().email == ADA.email

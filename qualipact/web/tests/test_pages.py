import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PAGES = [
    "web:home",
    "notices:policy",
    "contact:inquiry",
    "contact:thanks",
    "rights:request",
    "account_login",
    "accounts:signup",
    "accounts:password_reset",
]


@pytest.mark.parametrize("name", PAGES)
def test_it_serves_every_page_without_cookies_and_with_security_headers(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.cookies == {}
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "browsing-topics=()" in response["Permissions-Policy"]
    # No HSTS outside production (it would pin plain-HTTP development hosts).
    assert "Strict-Transport-Security" not in response


def test_it_refers_only_to_its_own_assets(client):
    # Every address a page loads or sends to is a path on this site (text may still
    # mention "https://", as the portability form does).
    foreign = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:[a-z]+:)?//""", re.I)
    for name in PAGES:
        html = client.get(reverse(name)).text
        assert not foreign.search(html), name
        assert "//" not in html.split("<body>")[0].replace("<!doctype html>", "")


def test_it_publishes_gpc_json(client):
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["gpc"] is True
    assert len(body["lastUpdate"]) == 10 and body["lastUpdate"][4] == "-"


def test_it_allows_inline_code_only_with_the_requests_nonce(rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    def view(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    request = rf.get("/")
    response = CSPMiddleware(view)(request)
    nonce = str(request.csp_nonce)
    assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_logs_never_hold_the_secret_token_of_an_emailed_link(client, caplog):
    import logging

    from qualipact.web.logformat import RedactLinkTokens

    token = "s3cr3t-capability-token-value"
    caplog.handler.addFilter(RedactLinkTokens())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/preferences/{token}/")
        client.post(f"/unsubscribe/{token}/")
    assert "Not Found" in caplog.text
    assert "/preferences/[token]/" in caplog.text
    assert token not in caplog.text
    # The settings put the same filter on the handler every log line goes through.
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactLinkTokens) for handler in handlers for f in handler.filters)


def test_it_sets_no_cookie_on_allauths_own_reset_link_made_from_our_token(client, settings):
    """Our reset token is Django's, as allauth's is: allauth's own reset link, which runs
    its flow and keeps the token in a session (a cookie), sends to our reset page."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    from conftest import account_for

    user = account_for("alice")
    path = f"/accounts/password/reset/key/{user_pk_to_url_str(user)}-"
    for key in (default_token_generator.make_token(user), "not-a-real-token"):
        response = client.get(f"{path}{key}/")
        assert response.status_code == 302
        assert response.headers["Location"] == reverse("accounts:password_reset")
        assert response.cookies == {}


def test_it_sets_no_cookie_when_a_sign_in_is_refused():
    """A refused sign-in leaves the visitor as they came: no cookie, whatever refused it
    (a wrong password, an account waiting for a parent's consent)."""
    from django.conf import settings
    from django.test import Client

    from conftest import PASSWORD, account_for
    from qualipact.accounts.tests.test_children import child_sign_up

    waiting = child_sign_up()
    account_for("alice")
    for login, password, status in (
        (waiting.username, PASSWORD, 403),
        ("alice", "not her password", 200),
    ):
        browser = Client()
        response = browser.post("/accounts/login/", {"login": login, "password": password})
        assert response.status_code == status
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    signed_in = Client().post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert settings.SESSION_COOKIE_NAME in signed_in.cookies  # a real sign-in still has one

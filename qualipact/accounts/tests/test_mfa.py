"""Two-factor authentication on our pages: authenticator apps, recovery codes and passkeys.

allauth does the work; these tests prove it works with our account model (no email in
allauth's tables or in an authenticator's label), inside our strict CSP, and that a
second factor, once set up, is asked for at every sign-in.
"""

import json
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from struct import pack

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import SESSION_KEY
from fido2 import cbor
from fido2.utils import sha256
from soft_webauthn import SoftWebauthnDevice

from conftest import totp_code
from qualipact.accounts.services import account_create

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
ORIGIN = "http://testserver"


@pytest.fixture
def member():
    return account_create(
        username="mira", email="mira.holm@example.org", password=PASSWORD, email_verified=True
    )


def sign_in(client, username="mira", password=PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


def reauthenticate(client, then):
    # allauth asks for the password again before any change to the second factors.
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD, "next": then})
    assert response.status_code == 302 and response.headers["Location"] == then


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


# Every code handed out, per secret: a code works once across all flows (enrolment,
# sign-in, re-authentication), so a test never gets one that an earlier step used.
_HANDED_OUT: dict[str, set[str]] = {}


def fresh_code(secret, used=None):
    """A code never handed out before for this secret: the current one of allauth's TOTP
    clock, or the next window's (the clock is pinned in the tests, conftest.totp_clock, so
    a code cannot run out of its window while a slow machine gets to the check)."""
    code = totp_code(secret, _HANDED_OUT.setdefault(secret, set()))
    if used is not None:
        used.add(code)
    return code


def activate_totp(client):
    reauthenticate(client, "/accounts/2fa/totp/activate/")
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", page.text).group(1)
    response = client.post("/accounts/2fa/totp/activate/", {"code": fresh_code(secret)})
    assert response.status_code == 302, response.text
    return secret, page, response


def test_it_enrols_an_authenticator_app_with_an_inline_qr_code_and_no_email_in_it(client, member):
    sign_in(client)
    secret, page, response = activate_totp(client)

    # The QR code is inline SVG (img-src is 'self' only), with no script or inline style.
    html = page.text
    assert "<svg" in html and "data:image" not in html and "<?xml" not in html
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
    # The otpauth URL names the username and the issuer, never the address.
    url = page.context["totp_url"]
    assert url.startswith("otpauth://totp/mira?") and "issuer=Qualipact" in url
    assert "mira.holm" not in url and "example.org" not in html
    assert secret in url

    totp = Authenticator.objects.get(user=member, type=Authenticator.Type.TOTP)
    assert totp.wrap().validate_code(fresh_code(secret))
    # Recovery codes come with the first factor; the page shows them once set up.
    assert response.headers["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert len(re.findall(r"<li><code>\w+</code></li>", codes.text)) == 10
    assert EmailAddress.objects.count() == 0


def test_it_names_the_site_in_the_notice_that_an_authenticator_was_added(
    client, member, django_capture_on_commit_callbacks
):
    from qualipact.comms.models import OutboundEmail

    sign_in(client)
    with django_capture_on_commit_callbacks(execute=True):
        activate_totp(client)
    notice = OutboundEmail.objects.filter(subject=member.subject, purpose="security").latest(
        "created_at"
    )
    assert notice.subject_line.startswith("Qualipact: ")
    assert "Hello from Qualipact!" in notice.body
    assert "from !" not in notice.body and "using !" not in notice.body


def test_it_refuses_a_wrong_code_at_enrolment(client, member):
    sign_in(client)
    reauthenticate(client, "/accounts/2fa/totp/activate/")
    client.get("/accounts/2fa/totp/activate/")
    response = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code" in response.text
    assert not Authenticator.objects.filter(user=member).exists()


def test_it_asks_for_the_second_factor_after_the_password_once_set_up(client, member):
    sign_in(client)
    secret, *_ = activate_totp(client)
    client.post("/accounts/logout/")
    assert signed_in_user_id(client) is None

    response = sign_in(client)
    # The password alone gives no session: the next step is the code.
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(client) is None
    assert client.get("/accounts/").status_code == 302  # still signed out

    page = client.get("/accounts/2fa/authenticate/")
    assert page.status_code == 200
    assert 'name="code"' in page.text
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert wrong.status_code == 200 and signed_in_user_id(client) is None

    used = set()
    response = client.post("/accounts/2fa/authenticate/", {"code": fresh_code(secret, used)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(member.pk)


def test_it_refuses_a_code_that_was_already_used_to_sign_in(client, member):
    sign_in(client)
    secret, *_ = activate_totp(client)
    client.post("/accounts/logout/")
    code = fresh_code(secret)
    sign_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(client) == str(member.pk)
    client.post("/accounts/logout/")

    sign_in(client)
    replay = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert replay.status_code == 200
    assert "Incorrect code" in replay.text
    assert signed_in_user_id(client) is None


def test_it_signs_in_with_a_recovery_code_once(client, member):
    sign_in(client)
    activate_totp(client)
    page = client.get("/accounts/2fa/recovery-codes/")
    code = re.findall(r"<li><code>(\w+)</code></li>", page.text)[0]
    client.post("/accounts/logout/")

    sign_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(client) == str(member.pk)
    client.post("/accounts/logout/")

    sign_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(client) is None


# transaction=True: allauth sends its notices on commit, while the request is still running.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_tells_the_account_by_email_when_an_authenticator_app_is_turned_on(client, member, smtp):
    from conftest import deliver_queued

    sign_in(client)
    activate_totp(client)
    deliver_queued()
    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert any("Authenticator" in s or "authenticator" in s for s in subjects), subjects
    assert all(m["To"] == "mira.holm@example.org" for m in smtp.messages)


def test_it_serves_the_mfa_pages_with_scripts_from_our_origin_or_a_nonce_only(client, member):
    pages = [client.get("/accounts/login/")]
    sign_in(client)
    pages.append(client.get("/accounts/2fa/"))
    reauthenticate(client, "/accounts/2fa/webauthn/add/")
    pages.append(client.get("/accounts/2fa/webauthn/add/"))
    pages.append(client.get("/accounts/2fa/totp/activate/"))
    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        html = response.text
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        for tag in re.findall(r"<script[^>]*>", html):
            # A script runs only from a file of ours, or inline with this response's nonce.
            # (json_script's data blocks never run, and the CSP does not apply to them.)
            runs_from_file = re.search(r'src="/static/[^"]+\.js"', tag)
            has_nonce = nonce and f'nonce="{nonce.group(1)}"' in tag
            data_block = 'type="application/json"' in tag
            assert runs_from_file or has_nonce or data_block, tag
        assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handler
        assert not re.search(r"\sstyle\s*=", html) and "<style" not in html


# -- passkeys, with a software authenticator --------------------------------------------


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PasskeyDevice(SoftWebauthnDevice):
    """soft-webauthn, as a passkey: it also reports user verification (PIN, biometrics)."""

    UP_UV = 0x05

    def create(self, options, origin):
        credential = super().create(options, origin)
        attestation = cbor.decode(credential["response"]["attestationObject"])
        auth_data = bytearray(attestation["authData"])
        auth_data[32] |= self.UP_UV
        attestation["authData"] = bytes(auth_data)
        credential["response"]["attestationObject"] = cbor.encode(attestation)
        return credential

    def get(self, options, origin):
        assertion = super().get(options, origin)
        response = assertion["response"]
        auth_data = sha256(self.rp_id.encode()) + bytes([self.UP_UV]) + pack(">I", self.sign_count)
        signed = auth_data + sha256(response["clientDataJSON"])
        response["authenticatorData"] = auth_data
        response["signature"] = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return assertion


def registration_json(credential) -> str:
    response = credential["response"]
    return json.dumps(
        {
            "id": b64url(credential["rawId"]),
            "rawId": b64url(credential["rawId"]),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(response["clientDataJSON"]),
                "attestationObject": b64url(response["attestationObject"]),
            },
            # What a browser reports for a discoverable credential (a passkey).
            "clientExtensionResults": {"credProps": {"rk": True}},
        }
    )


def assertion_json(assertion) -> str:
    response = assertion["response"]
    return json.dumps(
        {
            "id": b64url(assertion["rawId"]),
            "rawId": b64url(assertion["rawId"]),
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(response["authenticatorData"]),
                "clientDataJSON": b64url(response["clientDataJSON"]),
                "signature": b64url(response["signature"]),
                "userHandle": b64url(response["userHandle"]),
            },
            "clientExtensionResults": {},
        }
    )


def creation_options(js_data) -> dict:
    public_key = dict(js_data["creation_options"]["publicKey"])
    public_key["challenge"] = unb64url(public_key["challenge"])
    public_key["user"] = {**public_key["user"], "id": unb64url(public_key["user"]["id"])}
    return {"publicKey": public_key}


def request_options(data) -> dict:
    public_key = dict(data["request_options"]["publicKey"])
    public_key["challenge"] = unb64url(public_key["challenge"])
    return {"publicKey": public_key}


def add_passkey(client) -> PasskeyDevice:
    reauthenticate(client, "/accounts/2fa/webauthn/add/")
    page = client.get("/accounts/2fa/webauthn/add/")
    assert page.status_code == 200
    options = creation_options(page.context["js_data"])
    # The passkey names the account by username only.
    assert options["publicKey"]["user"]["name"] == "mira"
    assert options["publicKey"]["rp"] == {"id": "testserver", "name": "Qualipact"}
    device = PasskeyDevice()
    credential = device.create(options, ORIGIN)
    response = client.post(
        "/accounts/2fa/webauthn/add/",
        {"name": "Laptop", "passwordless": "on", "credential": registration_json(credential)},
    )
    assert response.status_code == 302, response.text
    return device


def test_it_registers_a_passkey_and_signs_in_with_it_without_a_password(client, member):
    sign_in(client)
    device = add_passkey(client)
    key = Authenticator.objects.get(user=member, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Laptop" and key.wrap().is_passwordless is True
    client.post("/accounts/logout/")
    assert signed_in_user_id(client) is None

    # The sign-in page's passkey button asks for options, the device signs, the form posts.
    options = client.get(
        "/accounts/2fa/webauthn/login/", headers={"Accept": "application/json"}
    ).json()
    assertion = device.get(request_options(options), ORIGIN)
    response = client.post(
        "/accounts/2fa/webauthn/login/", {"credential": assertion_json(assertion)}
    )
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(member.pk)


def test_it_refuses_a_passkey_answer_to_another_challenge(client, member):
    sign_in(client)
    device = add_passkey(client)
    client.post("/accounts/logout/")

    stale = client.get("/accounts/2fa/webauthn/login/", headers={"Accept": "application/json"})
    assertion = device.get(request_options(stale.json()), ORIGIN)
    client.get("/accounts/2fa/webauthn/login/", headers={"Accept": "application/json"})
    client.post("/accounts/2fa/webauthn/login/", {"credential": assertion_json(assertion)})
    assert signed_in_user_id(client) is None


def test_it_accepts_a_security_key_as_the_second_step_after_the_password(client, member):
    sign_in(client)
    device = add_passkey(client)
    client.post("/accounts/logout/")

    response = sign_in(client)
    assert response.headers["Location"] == "/accounts/2fa/authenticate/"
    page = client.get("/accounts/2fa/authenticate/")
    assert signed_in_user_id(client) is None
    assertion = device.get(request_options(page.context["js_data"]), ORIGIN)
    client.post("/accounts/2fa/authenticate/", {"credential": assertion_json(assertion)})
    assert signed_in_user_id(client) == str(member.pk)


def test_it_lists_renames_and_removes_passkeys(client, member):
    sign_in(client)
    add_passkey(client)
    key = Authenticator.objects.get(user=member, type=Authenticator.Type.WEBAUTHN)
    listing = client.get("/accounts/2fa/webauthn/")
    assert listing.status_code == 200 and "Laptop" in listing.text
    index = client.get("/accounts/2fa/")
    assert index.status_code == 200 and "/accounts/2fa/webauthn/" in index.text

    client.post(f"/accounts/2fa/webauthn/keys/{key.pk}/edit/", {"name": "Work laptop"})
    key.refresh_from_db()
    assert key.wrap().name == "Work laptop"
    client.post(f"/accounts/2fa/webauthn/keys/{key.pk}/remove/")
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_it_renders_every_mfa_page_in_the_site_layout_without_inline_script_or_style(
    client, member
):
    sign_in(client)
    activate_totp(client)
    add_passkey(client)
    key = Authenticator.objects.get(user=member, type=Authenticator.Type.WEBAUTHN)
    reauthenticate(client, "/accounts/2fa/")
    paths = [
        "/accounts/2fa/",
        "/accounts/2fa/totp/deactivate/",
        "/accounts/2fa/recovery-codes/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/2fa/webauthn/",
        "/accounts/2fa/webauthn/add/",
        f"/accounts/2fa/webauthn/keys/{key.pk}/edit/",
        f"/accounts/2fa/webauthn/keys/{key.pk}/remove/",
        "/accounts/2fa/reauthenticate/",
        "/accounts/2fa/webauthn/reauthenticate/",
        "/accounts/reauthenticate/",
        "/accounts/logout/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert 'class="site-header"' in html, path
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        for tag in re.findall(r"<script[^>]*>", html):
            runs_from_file = re.search(r'src="/static/[^"]+\.js"', tag)
            has_nonce = nonce and f'nonce="{nonce.group(1)}"' in tag
            assert runs_from_file or has_nonce or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, path
        assert "data:" not in html, path
    download = client.get("/accounts/2fa/recovery-codes/download/")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/plain")

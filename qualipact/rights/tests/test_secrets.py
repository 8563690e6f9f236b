"""Secrets are declared once in the registry and never leave (hardening item 2).

Session keys, password hashes, MFA seeds, recovery codes, token hashes and blind indexes
are `PersonalField(secret=True)`. Every output that shows a person's data - the DPO's
records view, the access export, the parent's dashboard and download, the rights API -
is checked against the real stored values of every secret field, read from the
database, so a new secret that someone forgets to declare, or an output that forgets
the declaration, fails here. The same outputs are checked against the credentials the
person's emails carried (reset, confirmation and download links, codes): the outbox's
text is declared with a mask (`privacy.masking`), and a link or code that shows fails.
"""

import base64
import io
import json
import re
import zipfile

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from conftest import PASSWORD, PERSONAS, run_deferred
from qualipact.accounts.services import children
from qualipact.accounts.tests.test_children import child_sign_up, consent_token
from qualipact.comms.models import OutboundEmail
from qualipact.privacy import vault
from qualipact.privacy.fields import EncryptedTextField, encrypted_context
from qualipact.privacy.registry import registry
from qualipact.rights.models import DataRequest, ExportFile
from qualipact.rights.services import exports, fulfil
from qualipact.rights.tests.test_dpo import dpo_grant, submit

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

# Names that say "credential or keyed hash". A declared field with such a name must be
# secret, unless listed here with the reason it is not.
SECRET_NAME = re.compile(r"password|session_key|token|secret|seed|recovery|_hash$|_index$")
NOT_SECRET: dict[str, str] = {}  # none so far


def strings_in(value) -> list[str]:
    """Every string inside a stored value (JSON included), as it could be printed."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)] + [
            s for k in value for s in strings_in(k)
        ]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return [base64.b64encode(raw).decode(), raw.hex()] if len(raw) >= 8 else []
    text = str(value)
    return [text] if len(text) >= 8 else []


def stored_secrets(subject) -> set[str]:
    """The plaintext of every secret field of the person, straight from the database."""
    found: set[str] = set()
    for declaration in registry.subject_declarations():
        names = [name for name, spec in declaration.fields.items() if spec.secret]
        if not names:
            continue
        rows = declaration.model._base_manager.filter(**{declaration.subject_field: subject})
        for values in rows.values_list(*names):
            for name, value in zip(names, values, strict=True):
                field = declaration.model._meta.get_field(name)
                if isinstance(field, EncryptedTextField) and value is not None:
                    value = vault.decrypt(
                        subject.pk, encrypted_context(declaration.model, name), value
                    )
                found.update(strings_in(value))
    return found


_LINK = re.compile(r"https?://[^/\s<>\"']+(/[^\s<>\"']+)")
# A code an email gives the person to type ("Your code is 123456").
_CODE = re.compile(r"\bcode\b\D{0,20}(?<![0-9])([0-9]{6,})(?![0-9])", re.IGNORECASE)


def emailed_credentials(subject) -> set[str]:
    """The path and query of every link, and every code, in the emails queued or sent
    about the person: each works for its recipient alone."""
    found: set[str] = set()
    for email in OutboundEmail.objects.filter(subject=subject):
        for text in (email.body, email.headers or ""):
            found.update(path for path in _LINK.findall(text) if len(path) >= 8)
            found.update(_CODE.findall(text))
    return found


@pytest.fixture
def person(client):
    """Alice with a session, TOTP, recovery codes, a pending export and a contact message."""
    from conftest import account_for, submit_persona

    user = account_for("alice")
    submit_persona("alice")
    TOTP.activate(user, generate_totp_secret())
    codes = RecoveryCodes.activate(user)
    client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    request = submit(user.subject)
    fulfil.request_fulfil(request_id=request.pk)
    # Emails that carry a link or a code of their own: a reset link, a rights code.
    address = PERSONAS["alice"]["email"]
    Client().post("/accounts/password/reset/", {"email": address})
    rights = {"email": address, "kind": "access", "confirm_export": "on"}
    assert Client().post("/rights/request/", rights).status_code == 302
    run_deferred()
    # A second export, made after those emails: it holds them.
    fulfil.request_fulfil(request_id=submit(user.subject).pk)
    mailed = emailed_credentials(user.subject)
    assert any("/rights/download/" in c for c in mailed)  # the export's link
    assert any("/accounts/password/reset/" in c for c in mailed)
    assert any(c.isdigit() for c in mailed)  # the rights request's code
    # Recovery codes are derived from the sealed seed: the codes themselves must not show.
    secrets = stored_secrets(user.subject) | set(codes.get_unused_codes()) | mailed
    assert len(secrets) >= 8  # password hash, session key and hash, seeds, indexes, ...
    return user, secrets


def leaked(text: str, secrets: set[str]) -> list[str]:
    """The secrets `text` shows; a code of digits only where it stands alone."""
    return sorted(
        s
        for s in secrets
        if (re.search(rf"(?<![0-9]){s}(?![0-9])", text) if s.isdigit() else s in text)
    )


def test_every_field_that_looks_like_a_credential_is_declared_secret():
    undeclared = [
        f"{d.label}.{name}"
        for d in registry.declarations()
        for name, spec in d.fields.items()
        if SECRET_NAME.search(name) and not spec.secret and name not in NOT_SECRET
    ]
    assert undeclared == []


def test_the_dpos_records_view_never_shows_a_secret(person, staff_account):
    user, secrets = person
    dpo = dpo_grant(staff_account)
    request = submit(user.subject, "rectification", details={"correction": "my name"})
    staff = Client()
    staff.force_login(dpo)
    page = staff.get(f"/staff/rights/{request.pk}/?records=1").text
    assert "data-records" in page
    assert leaked(page, secrets) == []
    assert "never shown" in page  # listed as stored, not shown


def test_the_export_never_carries_a_secret(person):
    user, secrets = person
    export = ExportFile.objects.filter(subject=user.subject).latest("created_at")
    content = exports.export_open(
        subject=user.subject, sealed=bytes(export.sealed), export_id=export.pk
    )
    archive = zipfile.ZipFile(io.BytesIO(content))
    for name in archive.namelist():
        assert leaked(archive.read(name).decode("utf-8-sig"), secrets) == [], name


def test_the_parents_dashboard_and_download_never_show_a_childs_secret(alice_account):
    child = child_sign_up(parent_email="alice.marchetti@example.org")
    children.parental_consent_grant(token=consent_token(child), parent=alice_account)
    child_browser = Client()
    child_browser.force_login(child)  # a session of the child's
    TOTP.activate(child, generate_totp_secret())
    mailed = emailed_credentials(child.subject)
    assert any("/accounts/verify/" in c for c in mailed)  # the child's confirmation link
    secrets = stored_secrets(child.subject) | mailed
    parent = Client()
    parent.force_login(alice_account)
    page = parent.get(f"/accounts/children/{child.pk}/").text
    download = parent.get(f"/accounts/children/{child.pk}/download/").text
    assert leaked(page, secrets) == [] and leaked(download, secrets) == []
    assert json.loads(download)["records"]


def test_the_rights_api_never_returns_a_secret(person, client):
    user, secrets = person
    for request in DataRequest.objects.filter(subject=user.subject):
        body = client.get(f"/api/rights/requests/{request.pk}").text
        assert leaked(body, secrets) == []
    assert leaked(client.get("/api/rights/requests").text, secrets) == []
    assert leaked(client.get("/api/preferences").text, secrets) == []

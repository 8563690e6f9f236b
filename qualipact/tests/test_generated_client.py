"""A client generated from /api/openapi.json by openapi-python-client works against the
site: it sends the bodies the views read and parses every answer, errors included, into
its typed models. If the document and the code disagreed (a body documented with another
schema, an undocumented error), the typed calls below would fail."""

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import Client as DjangoClient

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated(client, tmp_path, monkeypatch):
    """The client package generated from the served document, imported."""
    (tmp_path / "openapi.json").write_bytes(client.get("/api/openapi.json").content)
    (tmp_path / "config.yml").write_text(
        "post_hooks: []\npackage_name_override: qualipact_client\n"
    )
    subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--config",
            str(tmp_path / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "qualipact_client"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("qualipact_client")]:
        del sys.modules[name]
    yield lambda name: importlib.import_module(f"qualipact_client.{name}")
    for name in [m for m in sys.modules if m.startswith("qualipact_client")]:
        del sys.modules[name]


@pytest.fixture
def transport(wsgi_keeps_the_test_database):
    return httpx.WSGITransport(app=get_wsgi_application())


def _session_headers(user):
    django_client = DjangoClient()
    django_client.force_login(user)
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}


def test_it_serves_a_link_holder_through_the_generated_client(generated, transport, link_token):
    client_module = generated("client")
    models = generated("models")
    get = generated("api.preferences.qualipact_consent_api_preferences_get")
    change = generated("api.preferences.qualipact_consent_api_preferences_change")
    client = client_module.AuthenticatedClient(
        base_url="http://localhost", token=link_token, httpx_args={"transport": transport}
    )
    overview = get.sync(client=client)
    assert isinstance(overview, models.PreferencesOut)
    assert "marketing" in {p.purpose for p in overview.purposes}
    body = models.PreferenceChangeIn(
        purpose=models.PreferenceChangeInPurpose("marketing"),
        action=models.PreferenceChangeInAction("withdraw"),
    )
    after = change.sync(client=client, body=body)
    assert isinstance(after, models.PreferencesOut)
    assert [(e.purpose, e.action) for e in after.history][-1] == ("marketing", "withdraw")
    refused = get.sync(client=client_module.AuthenticatedClient(
        base_url="http://localhost", token="not-a-link", httpx_args={"transport": transport}
    ))  # fmt: skip
    assert isinstance(refused, models.ErrorOut)
    assert refused.error.code == "invalid_link"


def test_it_serves_a_person_and_a_dpo_through_the_generated_client(
    generated, transport, alice_account, dpo_user
):
    client_module = generated("client")
    models = generated("models")
    rights = "api.rights.qualipact_rights_api_"
    dpo = "api.dpo.qualipact_rights_api_"
    person = client_module.Client(
        base_url="http://localhost",
        headers=_session_headers(alice_account),
        httpx_args={"transport": transport},
    )
    body = models.RequestIn(
        kind=models.RequestInKind("rectification"),
        details=models.RequestDetailsIn(correction="My name is Alicia"),
    )
    created = generated(rights + "my_request_create").sync(client=person, body=body)
    assert isinstance(created, models.RequestOut), created
    mine = generated(rights + "my_requests").sync(client=person)
    assert [r.id for r in mine] == [created.id]
    missing = generated(rights + "my_request").sync(client=person, request_id=uuid.uuid4())
    assert isinstance(missing, models.ErrorOut) and missing.error.code == "not_found"
    too_long = models.RequestIn(
        kind=models.RequestInKind("rectification"),
        details=models.RequestDetailsIn(correction="x" * 5000),
    )
    invalid = generated(rights + "my_request_create").sync(client=person, body=too_long)
    assert isinstance(invalid, models.ErrorOut) and invalid.error.code == "invalid_input"

    officer = client_module.Client(
        base_url="http://localhost",
        headers=_session_headers(dpo_user),
        httpx_args={"transport": transport},
    )
    queue = generated(dpo + "queue").sync(client=officer)
    assert [row.id for row in queue] == [created.id]
    note = generated(dpo + "note_add").sync(
        client=officer, request_id=created.id, body=models.NoteIn(text="Check the ID")
    )
    assert isinstance(note, models.NoteOut)
    detail = generated(dpo + "request_detail").sync(client=officer, request_id=created.id)
    assert isinstance(detail, models.DpoRequestOut)
    assert [n.text for n in detail.notes] == ["Check the ID"]
    assert all(isinstance(event, models.AuditEventOut) for event in detail.trail)
    forbidden = generated(dpo + "queue").sync(client=person)
    assert isinstance(forbidden, models.ErrorOut) and forbidden.error.code == "forbidden"

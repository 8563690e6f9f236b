"""Every API error is in the one JSON shape with a stable code, whichever layer refuses,
and its text is for people: nothing internal (model labels, UUIDs, reprs) and nothing that
tells who a person is."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, internal_in
from qualipact.accounts.services import account_create
from qualipact.consent import api as consent_api
from qualipact.consent.models import ConsentEvent
from qualipact.privacy.errors import (
    ApplicationError,
    ProcessingRefused,
    SubjectShredded,
    VaultError,
)
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.tests.conftest import assert_error, post
from qualipact.web.api import max_body_bytes

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PREFS = "/api/preferences"
MINE = "/api/rights/requests"
QUEUE = "/api/dpo/requests"


def _json_posts(request_id):
    """Every operation that takes a JSON body, with a valid body."""
    return [
        (PREFS, {"purpose": "marketing", "action": "withdraw"}),
        (MINE, {"kind": "access"}),
        (f"{QUEUE}/{request_id}/refuse", {"basis": "excessive", "reason": "No."}),
        (f"{QUEUE}/{request_id}/extend", {"due_on": "2030-01-01", "reason": "More"}),
        (f"{QUEUE}/{request_id}/wait", {"note": "Which one?"}),
        (f"{QUEUE}/{request_id}/notes", {"text": "A note"}),
        (f"{QUEUE}/{request_id}/rectify", {"changes": []}),
    ]


@pytest.fixture
def open_request(alice_account):
    from qualipact.rights.tests.test_dpo import submit

    return submit(alice_account.subject, "rectification", details={"correction": "Alicia"})


def _stored():
    return (
        DataRequest.objects.count(),
        RequestNote.objects.count(),
        ConsentEvent.objects.count(),
        list(DataRequest.objects.values_list("status", "extended_due_on", "refusal_basis")),
    )


@pytest.mark.parametrize(
    "body",
    [b'{"kind": "access"', b"not json", b"\xff\xfe\x00", b'{"kind": NaN}', b"[1, 2"],
    ids=["truncated", "words", "bad-utf8", "nan", "open-list"],
)
def test_it_answers_malformed_json_with_the_error_shape(dpo_client, open_request, body):
    before = _stored()
    for path, _ in _json_posts(open_request.pk):
        response = dpo_client.post(path, body, content_type="application/json")
        if response.status_code == 403:  # the DPO is not a person of the preference API
            continue
        error = assert_error(response, 422 if b"NaN" in body else 400, _code(body))
        assert "detail" not in response.json()
        assert error["message"]
    assert _stored() == before


def _code(body):
    return "invalid_input" if b"NaN" in body else "malformed_json"


def test_it_answers_a_body_over_the_limit_with_413_and_stores_nothing(
    dpo_client, alice_client, open_request
):
    big = json.dumps({"text": "x" * (3 * 1024 * 1024)})
    assert len(big) > max_body_bytes()
    before = _stored()
    for path, _ in _json_posts(open_request.pk):
        error = assert_error(
            dpo_client.post(path, big, content_type="application/json"), 413, "too_large"
        )
        assert error["details"] == {"max_bytes": max_body_bytes()}
    assert _stored() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", PREFS),
        ("put", PREFS),
        ("patch", MINE),
        ("delete", MINE),
        ("post", f"{MINE}/{uuid.UUID(int=1)}"),
        ("post", QUEUE),
        ("get", f"{QUEUE}/{uuid.UUID(int=1)}/refuse"),
    ],
)
def test_it_answers_a_wrong_method_with_405_in_the_error_shape(dpo_client, method, path):
    response = getattr(dpo_client, method)(path)
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/nothing-here",
        "/api/rights/",
        "/api/preferences/extra",
        "/api/openapi.yaml",
    ],
)
def test_it_answers_an_unknown_api_path_with_404_in_the_error_shape(alice_client, path):
    assert_error(alice_client.get(path), 404, "not_found")
    assert_error(post(alice_client, path, {}), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/api/rights/requests/not-a-uuid",
        f"/api/rights/requests/{uuid.UUID(int=1)}x",
        "/api/dpo/requests/1",
    ],
)
def test_it_answers_a_path_parameter_of_the_wrong_type_with_422(dpo_client, path):
    error = assert_error(dpo_client.get(path), 422, "invalid_input")
    assert error["details"][0]["location"] == "path.request_id"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null"},
    ],
)
def test_it_refuses_a_cross_site_api_write_with_403_in_the_error_shape(
    alice_client, headers, open_request
):
    before = _stored()
    for path, payload in [
        (PREFS, {"purpose": "marketing", "action": "grant"}),
        (MINE, {"kind": "erasure"}),
    ]:
        assert_error(post(alice_client, path, payload, headers=headers), 403, "forbidden")
    assert _stored() == before


SECRET_TEXT = (
    f"comms.NewsletterSignup: email may not be stored for a child (subject {uuid.uuid4()})"
)


@pytest.mark.parametrize(
    "error",
    [
        ProcessingRefused(SECRET_TEXT, {"model": "comms.NewsletterSignup", "reasons": ["child"]}),
        VaultError(f"Data key of subject {uuid.uuid4()} failed authentication"),
        SubjectShredded("gone", {"subject": str(uuid.uuid4())}),
        ApplicationError(SECRET_TEXT, {"field": "contact.Inquiry.email_index"}),
        ApplicationError("Bad value <object object at 0x7f00>", {"value": "{'a': 1}"}),
    ],
    ids=["refused", "vault", "shredded", "label-in-message", "repr"],
)
def test_it_tells_people_nothing_internal_when_a_service_refuses(alice_client, monkeypatch, error):
    def refuse(**kwargs):
        raise error

    monkeypatch.setattr(consent_api, "preference_change", refuse)
    response = post(alice_client, PREFS, {"purpose": "marketing", "action": "withdraw"})
    assert_error(response, error.status, error.code)
    assert internal_in(response.content.decode()) == []
    assert "child" not in response.content.decode()


@pytest.mark.parametrize("where", ["selector", "auth"])
def test_it_answers_an_unexpected_exception_with_500_and_no_internal_detail(
    alice_account, link_token, monkeypatch, where
):
    secret = f"boom in comms.NewsletterSignup for subject {alice_account.subject_id}"

    def crash(*args, **kwargs):
        raise RuntimeError(secret)

    if where == "selector":
        monkeypatch.setattr(consent_api.selectors, "consent_overview", crash)
    else:
        monkeypatch.setattr(consent_api.selectors, "preference_access", crash)
    client = Client(raise_request_exception=False)
    response = client.get(PREFS, headers={"Authorization": f"Bearer {link_token}"})
    error = assert_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()
    assert str(alice_account.subject_id) not in response.content.decode()
    assert error["details"] == {}


def test_it_tells_a_child_nothing_internal_when_a_grant_is_refused(monkeypatch):
    from qualipact.comms import tasks as comms_tasks

    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)
    kim = account_create(
        username="kim",
        email="kim@example.org",
        password=PASSWORD,
        email_verified=True,
        child_until=timezone.localdate() + timedelta(days=300),
    )
    client = Client()
    client.force_login(kim)
    response = post(client, PREFS, {"purpose": "marketing", "action": "grant"})
    error = assert_error(response, 400, "processing_refused")
    text = response.content.decode()
    assert internal_in(text) == []
    assert "child" not in text.lower()
    assert str(kim.subject_id) not in text
    assert error["details"] == {}
    assert not ConsentEvent.objects.filter(subject=kim.subject, action="grant").exists()

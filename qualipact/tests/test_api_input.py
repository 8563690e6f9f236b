"""Every API input is checked by its schema, and by the model before a write: wrong types,
over-long text, lone surrogates, ids that are not ids, values a model refuses and values
already taken are 422 (or 409) in the one error shape, and nothing stored changes."""

import json

import pytest
from django.test import Client

from conftest import PASSWORD, submit_persona
from qualipact.accounts.models import User
from qualipact.accounts.services import account_create
from qualipact.consent.models import ConsentEvent
from qualipact.contact.models import Inquiry
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.rights.services.requests import CHANGES_MAX, TEXT_MAX
from qualipact.rights.tests.test_dpo import submit
from qualipact.tests.conftest import assert_error, post

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PREFS = "/api/preferences"
MINE = "/api/rights/requests"
QUEUE = "/api/dpo/requests"
LONE = "\ud800"
TOO_LONG = "x" * (TEXT_MAX + 1)


def _raw(client, path, text):
    """POST JSON text as is: json.dumps writes a lone surrogate as the escape "\\ud800"."""
    return client.post(path, text, content_type="application/json")


def _everything():
    return (
        list(DataRequest.objects.values_list("pk", "status", "extended_due_on", "refusal_basis")),
        RequestNote.objects.count(),
        ConsentEvent.objects.count(),
        list(Inquiry.objects.values_list("pk", "phone", "name")),
        list(User.objects.values_list("pk", "username")),
    )


# -- the person's API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "consent_withdrawal", "details": {"purposes": [["marketing"]]}},
        {"kind": "consent_withdrawal", "details": {"purposes": "marketing"}},
        {"kind": "consent_withdrawal", "details": {"purposes": [{"code": "marketing"}]}},
        {"kind": "objection", "details": {"purpose": ["marketing"]}},
        {"kind": "objection", "details": {"purpose": {"code": "marketing"}}},
        {"kind": "rectification", "details": {"correction": {"name": "Alicia"}}},
        {"kind": "rectification", "details": {"correction": ["Alicia"]}},
        {"kind": "rectification", "details": {"correction": 42}},
        {"kind": "rectification", "details": {"correction": "ok", "changes": "all"}},
        {"kind": "rectification", "details": {"correction": "ok", "changes": [1]}},
        {"kind": "portability", "details": {"endpoint": ["https://x.example"]}},
        {"kind": "access", "details": []},
        {"kind": "access", "details": "everything"},
        {"kind": ["access"]},
        {"kind": "access", "regime": 1},
        {"kind": "access", "details": {"purpose": "marketing"}},
        {"kind": "objection", "details": {"purpose": "marketing", "email": "x@y.example"}},
        {"kind": "access", "surprise": True},
        [{"kind": "access"}],
        "access",
    ],
)
def test_it_refuses_a_request_of_the_wrong_shape_with_422(alice_client, payload):
    before = _everything()
    assert_error(post(alice_client, MINE, payload), 422, "invalid_input")
    assert _everything() == before


def test_it_refuses_a_correction_over_the_limit_rather_than_cutting_it(alice_client):
    huge = "y" * 1_000_000
    error = assert_error(
        post(alice_client, MINE, {"kind": "rectification", "details": {"correction": huge}}),
        422,
        "invalid_input",
    )
    assert error["details"][0]["location"] == "body.payload.details.correction"
    at_limit = "z" * TEXT_MAX
    response = post(
        alice_client, MINE, {"kind": "rectification", "details": {"correction": at_limit}}
    )
    assert response.status_code == 201, response.content
    assert response.json()["details"]["correction"] == at_limit
    assert DataRequest.objects.count() == 1


@pytest.mark.parametrize(
    "details",
    [
        {"correction": 42},
        {"correction": {"a": 1}},
        {"correction": TOO_LONG},
        {"correction": "fine", "changes": [{"model": "x", "record": 1}]},
        {"correction": "fine", "changes": ["not a change"]},
        {"correction": "fine", "changes": [{}] * (CHANGES_MAX + 1)},
    ],
)
def test_it_refuses_a_malformed_detail_in_the_service_too(alice_account, details):
    # The web forms and the emailed-code path reach the service without the API's schema.
    from qualipact.privacy.errors import InvalidInput

    with pytest.raises(InvalidInput):
        submit(alice_account.subject, "rectification", details=details)
    assert not DataRequest.objects.exists()


def test_it_refuses_non_text_purposes_in_the_service(alice_account):
    from qualipact.privacy.errors import ApplicationError

    for details in ({"purposes": [["marketing"]]}, {"purposes": [{"a": 1}]}):
        with pytest.raises(ApplicationError):
            submit(alice_account.subject, "consent_withdrawal", details=details)
    with pytest.raises(ApplicationError):
        submit(alice_account.subject, "objection", details={"purpose": ["marketing"]})
    assert not DataRequest.objects.exists()


LONE_SURROGATE_BODIES = [
    (MINE, '{"kind": "rectification", "details": {"correction": "Ali\\ud800cia"}}'),
    (MINE, '{"kind": "rectification", "details": {"correction": "\\udfff"}}'),
    (MINE, '{"kind": "objection", "details": {"purpose": "market\\udc00ing"}}'),
    (MINE, '{"kind": "access", "details": {"\\ud800": 1}}'),
    (MINE, '{"kind": "acc\\ud83dess"}'),
    (PREFS, '{"purpose": "marketing\\ud800", "action": "grant"}'),
    (PREFS, '{"purpose": "marketing", "action": "grant", "wording_sha256": "\\ud800"}'),
    # NUL is a scalar value, but no PostgreSQL text column can hold it.
    (MINE, '{"kind": "rectification", "details": {"correction": "Ali\\u0000cia"}}'),
]


@pytest.mark.parametrize(("path", "text"), LONE_SURROGATE_BODIES)
def test_it_refuses_a_lone_surrogate_or_nul_anywhere_in_a_body_with_422(alice_client, path, text):
    before = _everything()
    error = assert_error(_raw(alice_client, path, text), 422, "invalid_input")
    assert error["details"][0]["location"].startswith("body")
    assert _everything() == before


def test_it_accepts_a_surrogate_pair_which_is_one_scalar_value(alice_client):
    text = '{"kind": "rectification", "details": {"correction": "Ali \\ud83d\\ude00"}}'
    response = _raw(alice_client, MINE, text)
    assert response.status_code == 201, response.content
    assert response.json()["details"]["correction"] == "Ali \U0001f600"


def test_it_shows_a_lone_surrogate_stored_before_the_check_without_crashing(
    alice_account, dpo_user
):
    request = submit(alice_account.subject, "rectification", details={"correction": "x"})
    # As the old code stored it: json.dumps escapes the surrogate, the vault takes ASCII.
    request.details = json.dumps({"correction": f"Ali{LONE}cia"})
    request.save(update_fields=["details"])
    dpo = Client(raise_request_exception=False)
    dpo.force_login(dpo_user)
    page = dpo.get(f"/staff/rights/{request.pk}/")
    assert page.status_code == 200
    assert "Ali\ufffdcia" in page.content.decode()
    api = dpo.get(f"{QUEUE}/{request.pk}")
    assert api.status_code == 200
    assert api.json()["details"] == {"correction": "Ali\ufffdcia"}
    person = Client(raise_request_exception=False)
    person.force_login(alice_account)
    for path in (f"{MINE}/{request.pk}", MINE, "/rights/", f"/rights/{request.pk}/"):
        assert person.get(path).status_code == 200, path


# -- the preference API --------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"purpose": ["marketing"], "action": "grant"},
        {"purpose": "nothing", "action": "grant"},
        {"purpose": "marketing", "action": "sell"},
        {"purpose": "marketing", "action": "grant", "wording_sha256": "abc"},
        {"purpose": "marketing", "action": "grant", "wording_sha256": 12},
        {"purpose": "m" * 10_000, "action": "grant"},
        {"purpose": "marketing", "action": "grant", "extra": 1},
        {"purpose": "marketing"},
        [],
        None,
    ],
)
def test_it_refuses_a_preference_change_of_the_wrong_shape_with_422(
    alice_client, link_token, payload
):
    before = _everything()
    assert_error(post(alice_client, PREFS, payload), 422, "invalid_input")
    bearer = Client()
    response = post(bearer, PREFS, payload, headers={"Authorization": f"Bearer {link_token}"})
    assert_error(response, 422, "invalid_input")
    assert _everything() == before


# -- the DPO API ---------------------------------------------------------------------------


@pytest.fixture
def rectification(alice_account):
    return submit(alice_account.subject, "rectification", details={"correction": "New name"})


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("refuse", {"basis": "excessive", "reason": TOO_LONG}),
        ("refuse", {"basis": ["excessive"], "reason": "No."}),
        ("refuse", {"basis": "excessive", "reason": {"why": "No."}}),
        ("refuse", {"basis": "excessive", "reason": "No.", "notify": False}),
        ("extend", {"due_on": "2030-02-30", "reason": "More"}),
        ("extend", {"due_on": "soon", "reason": "More"}),
        ("extend", {"due_on": ["2030-01-01"], "reason": "More"}),
        ("extend", {"due_on": "2030-01-01", "reason": TOO_LONG}),
        ("wait", {"note": TOO_LONG}),
        ("wait", {"note": 7}),
        ("notes", {"text": TOO_LONG}),
        ("notes", {"text": None}),
        ("rectify", {"changes": "all"}),
        ("rectify", {"changes": [{"model": "contact.Inquiry", "record": "12", "field": "phone"}]}),
        (
            "rectify",
            {"changes": [{"model": "contact.Inquiry", "record": "nope", "field": "phone"}]},
        ),
        (
            "rectify",
            {
                "changes": [
                    {
                        "model": "contact.Inquiry",
                        "record": "00000000-0000-0000-0000-000000000001",
                        "field": "phone",
                        "value": TOO_LONG,
                    }
                ]
            },
        ),
    ],
)
def test_it_refuses_a_dpo_action_of_the_wrong_shape_with_422(
    dpo_client, rectification, action, payload
):
    before = _everything()
    assert_error(
        post(dpo_client, f"{QUEUE}/{rectification.pk}/{action}", payload), 422, "invalid_input"
    )
    assert _everything() == before


@pytest.mark.parametrize(
    "query",
    ["status=lost", "due=soon", "status=open%ED%A0%80", "status=%FF", "due=" + "x" * 5000],
)
def test_it_refuses_an_unknown_queue_filter_with_422(dpo_client, query):
    assert_error(dpo_client.get(f"{QUEUE}?{query}"), 422, "invalid_input")


@pytest.mark.parametrize(
    ("model", "field", "value", "status", "code"),
    [
        ("accounts.User", "username", "a" * 61, 422, "invalid_input"),
        ("accounts.User", "username", "<b>alice</b>", 422, "invalid_input"),
        ("accounts.User", "username", "", 422, "invalid_input"),
        ("accounts.User", "username", "bob", 409, "conflict"),
        # What the system observed is not corrected (a record of what happened).
        ("accounts.User", "last_login", "yesterday", 400, "application_error"),
        ("accounts.User", "email_verified_at", "2024-13-45T99:00", 400, "application_error"),
        # The sign-in address changes only through the flow that proves the new one.
        ("accounts.User", "email", "not an address", 400, "application_error"),
    ],
)
def test_it_runs_model_validation_before_a_dpo_correction_is_written(
    dpo_client, alice_account, bob_account, rectification, model, field, value, status, code
):
    before = _everything()
    change = {"model": model, "record": str(alice_account.pk), "field": field, "value": value}
    response = post(dpo_client, f"{QUEUE}/{rectification.pk}/rectify", {"changes": [change]})
    assert_error(response, status, code)
    assert _everything() == before
    rectification.refresh_from_db()
    assert rectification.status == DataRequest.Status.IN_PROGRESS


def test_it_answers_409_when_a_corrected_value_is_taken(dpo_client, alice_account, rectification):
    account_create(
        username="carol", email="carol@example.org", password=PASSWORD, email_verified=True
    )
    change = {
        "model": "accounts.User",
        "record": str(alice_account.pk),
        "field": "username",
        "value": "carol",
    }
    before = _everything()
    response = post(dpo_client, f"{QUEUE}/{rectification.pk}/rectify", {"changes": [change]})
    assert_error(response, 409, "conflict")
    assert _everything() == before


def test_it_writes_no_correction_when_a_later_one_is_bad(dpo_client, alice_account, rectification):
    inquiry = submit_persona("alice")
    good = {"model": "contact.Inquiry", "record": str(inquiry.pk), "field": "phone", "value": "1"}
    bad = {"model": "accounts.User", "record": str(alice_account.pk), "field": "username"}
    response = post(
        dpo_client,
        f"{QUEUE}/{rectification.pk}/rectify",
        {"changes": [good, {**bad, "value": "<script>"}]},
    )
    assert_error(response, 422, "invalid_input")
    assert Inquiry.objects.get(pk=inquiry.pk).phone == "+44 20 7946 0018"
    response = post(dpo_client, f"{QUEUE}/{rectification.pk}/rectify", {"changes": [good]})
    assert response.status_code == 200, response.content
    assert Inquiry.objects.get(pk=inquiry.pk).phone == "1"


def test_it_refuses_a_correction_of_a_reference_by_a_value(
    dpo_client, alice_account, rectification
):
    from qualipact.consent.services import consent_grant
    from qualipact.privacy.audit import Actor

    event = consent_grant(
        subject=alice_account.subject,
        purpose="marketing",
        channel="api",
        actor=Actor.subject(alice_account.subject_id),
    )
    change = {"model": "consent.ConsentEvent", "record": str(event.pk), "field": "wording"}
    response = post(
        dpo_client, f"{QUEUE}/{rectification.pk}/rectify", {"changes": [{**change, "value": "1"}]}
    )
    assert_error(response, 400, "application_error")


def test_it_refuses_to_edit_a_record_of_what_happened(dpo_client, alice_account, rectification):
    """The consent ledger is append-only: a correction of one of its events is refused in
    words (web and API), never a server error, and the ledger is unchanged."""
    from qualipact.consent.services import consent_grant
    from qualipact.privacy.audit import Actor

    event = consent_grant(
        subject=alice_account.subject,
        purpose="marketing",
        channel="api",
        actor=Actor.subject(alice_account.subject_id),
    )
    before = _everything()
    for field, value in (("action", "withdraw"), ("purpose", "analytics"), ("channel", "web")):
        change = {"model": "consent.ConsentEvent", "record": str(event.pk), "field": field}
        response = post(
            dpo_client,
            f"{QUEUE}/{rectification.pk}/rectify",
            {"changes": [{**change, "value": value}]},
        )
        error = assert_error(response, 400, "application_error")
        assert "record of what happened" in error["message"]
        # The page offers no field of the ledger: a crafted pick is refused.
        page = dpo_client.post(
            f"/staff/rights/{rectification.pk}/rectify/",
            {"target": f"consent.ConsentEvent|{event.pk}|{field}", "value": value},
        )
        assert page.status_code == 400
    assert _everything() == before
    assert ConsentEvent.objects.get(pk=event.pk).action == event.action


def test_every_model_that_refuses_updates_is_declared_append_only():
    """A model whose save() refuses to update a row must say so in the registry, or a
    correction would reach it and fail inside the model."""
    import inspect

    from qualipact.privacy.registry import registry

    refusing = {
        d.label
        for d in registry.subject_declarations()
        if "save" in vars(d.model)
        and "_state.adding" in (source := inspect.getsource(d.model.save))
        and "raise" in source
    }
    assert "consent.ConsentEvent" in refusing  # the detection finds the known ledger
    undeclared = sorted(
        d.label
        for d in registry.subject_declarations()
        if d.label in refusing and not d.append_only
    )
    assert undeclared == []

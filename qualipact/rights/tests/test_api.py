"""The rights API: the person's own requests, and the DPO queue; one error shape."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from conftest import PASSWORD, reauthenticate, submit_persona
from qualipact.accounts.services import account_create
from qualipact.contact.models import Inquiry
from qualipact.privacy.models import AuditEvent
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.rights.tests.test_dpo import submit
from qualipact.tests.conftest import assert_error, post
from qualipact.web.roles import DPO_GROUP

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

MINE = "/api/rights/requests"
QUEUE = "/api/dpo/requests"


def days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def alice_client(client, alice_account):
    client.force_login(alice_account)
    # Exports and erasure need a recent re-authentication (qualipact.web.reauth).
    reauthenticate(client)
    return client


@pytest.fixture
def dpo_client(client, staff_account):
    group, _ = Group.objects.get_or_create(name=DPO_GROUP)
    staff_account.groups.add(group)
    client.force_login(staff_account)
    return client


# -- the person's own requests -----------------------------------------------------------


def test_it_lists_only_my_own_requests(alice_client, alice_account, bob_account):
    mine = submit(alice_account.subject)
    submit(bob_account.subject)
    response = alice_client.get(MINE)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [str(mine.pk)]
    assert response.json()[0]["kind"] == "access"
    assert response.json()[0]["due_on"] == mine.due_on.isoformat()


def test_it_takes_a_request_and_gives_it_back(alice_client, alice_account):
    response = post(alice_client, MINE, {"kind": "objection", "details": {"purpose": "marketing"}})
    assert response.status_code == 201, response.content
    body = response.json()
    request = DataRequest.objects.get(pk=body["id"])
    assert request.subject_id == alice_account.subject_id
    assert request.channel == DataRequest.Channel.API
    assert body["details"] == {"purpose": "marketing"}
    assert body["status"] == "in_progress"
    assert alice_client.get(f"{MINE}/{request.pk}").json()["id"] == str(request.pk)
    response = post(alice_client, MINE, {"kind": "access", "regime": "ccpa", "confirm": True})
    assert response.status_code == 201
    assert response.json()["due_on"] == (timezone.localdate() + timedelta(days=45)).isoformat()


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"kind": "everything"}, "body.payload.kind"),
        ({"kind": "access", "regime": "mars"}, "body.payload.regime"),
    ],
)
def test_it_refuses_an_unknown_kind_or_regime_by_its_schema(alice_client, payload, location):
    error = assert_error(post(alice_client, MINE, payload), 422, "invalid_input")
    assert [problem["location"] for problem in error["details"]] == [location]
    assert not DataRequest.objects.exists()


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"kind": "objection", "details": {"purpose": "contract"}}, {"purpose": "not_objectable"}),
        ({"kind": "rectification", "details": {"correction": " "}}, {"correction": "empty"}),
    ],
)
def test_it_refuses_a_bad_request_clearly_and_stores_nothing(alice_client, payload, detail):
    error = assert_error(post(alice_client, MINE, payload), 400, "application_error")
    assert error["details"] == detail
    assert not DataRequest.objects.exists()
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_REQUEST_RECEIVED).exists()


def test_it_refuses_a_request_without_a_kind_in_the_error_shape(alice_client):
    error = assert_error(post(alice_client, MINE, {"details": {}}), 422, "invalid_input")
    assert error["details"][0]["location"] == "body.payload.kind"


def test_it_answers_not_found_for_every_request_that_is_not_mine(
    alice_client, alice_account, bob_account
):
    others = [submit(bob_account.subject, kind) for kind in ("access", "erasure", "restriction")]
    others.append(
        submit(bob_account.subject, "rectification", details={"correction": "Bob, not Rob"})
    )
    mine = submit(alice_account.subject)
    for other in others:
        assert_error(alice_client.get(f"{MINE}/{other.pk}"), 404, "not_found")
    assert_error(alice_client.get(f"{MINE}/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    assert alice_client.get(f"{MINE}/{mine.pk}").status_code == 200


def test_it_asks_a_visitor_to_sign_in(client, alice_account):
    request = submit(alice_account.subject)
    assert_error(client.get(MINE), 401, "unauthenticated")
    assert_error(client.get(f"{MINE}/{request.pk}"), 401, "unauthenticated")
    assert_error(post(client, MINE, {"kind": "access"}), 401, "unauthenticated")
    assert DataRequest.objects.count() == 1


def test_it_refuses_a_cross_site_request(alice_client):
    response = alice_client.post(
        MINE,
        json.dumps({"kind": "erasure"}),
        content_type="application/json",
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert not DataRequest.objects.exists()


# -- the DPO queue -----------------------------------------------------------------------


def test_it_refuses_everyone_but_a_dpo_with_a_second_factor(
    client, alice_account, staff_account, alice_inquiry
):
    request = submit(alice_account.subject)
    paths = [QUEUE, f"{QUEUE}/{request.pk}"]
    for path in paths:
        assert_error(client.get(path), 401, "unauthenticated")
    no_mfa = account_create(
        username="dana",
        email="dana@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    no_mfa.groups.add(Group.objects.get_or_create(name=DPO_GROUP)[0])
    # A person, a staff member outside the group, a DPO without MFA: 403, nothing done.
    for user in (alice_account, staff_account, no_mfa):
        client.force_login(user)
        for path in paths:
            assert_error(client.get(path), 403, "forbidden")
        response = post(
            client, f"{QUEUE}/{request.pk}/refuse", {"basis": "excessive", "reason": "No."}
        )
        assert_error(response, 403, "forbidden")
        assert_error(post(client, f"{QUEUE}/{request.pk}/notes", {"text": "x"}), 403, "forbidden")
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert not RequestNote.objects.exists()


def test_it_lists_the_queue_overdue_first_with_filters(dpo_client, alice_account, bob_account):
    alice, bob = alice_account.subject, bob_account.subject
    in9 = submit(alice, due_on=days(9))
    late2 = submit(bob, due_on=days(-2))
    in3 = submit(alice, due_on=days(1), extended_due_on=days(3))
    late5 = submit(alice, due_on=days(-5))
    done = submit(bob, due_on=days(-40), status=DataRequest.Status.COMPLETED)

    rows = dpo_client.get(QUEUE).json()
    assert [r["id"] for r in rows] == [str(r.pk) for r in (late5, late2, in3, in9)]
    assert rows[0]["overdue"] is True and rows[0]["days_left"] == -5
    assert rows[2]["effective_due_on"] == days(3).isoformat() and rows[2]["days_left"] == 3
    assert [r["id"] for r in dpo_client.get(QUEUE, {"due": "overdue"}).json()] == [
        str(late5.pk),
        str(late2.pk),
    ]
    assert [r["id"] for r in dpo_client.get(QUEUE, {"due": "week"}).json()] == [str(in3.pk)]
    assert [r["id"] for r in dpo_client.get(QUEUE, {"status": "completed"}).json()] == [
        str(done.pk)
    ]
    assert len(dpo_client.get(QUEUE, {"status": "all"}).json()) == 5
    assert_error(dpo_client.get(QUEUE, {"due": "soon"}), 422, "invalid_input")
    assert_error(dpo_client.get(QUEUE, {"status": "lost"}), 422, "invalid_input")


def test_it_shows_a_request_with_its_notes_and_audit_trail(
    dpo_client, staff_account, alice_account
):
    request = submit(alice_account.subject, "rectification", details={"correction": "Alicia"})
    response = post(dpo_client, f"{QUEUE}/{request.pk}/notes", {"text": "Check the ID first"})
    assert response.status_code == 201
    assert response.json()["author"] == str(staff_account.pk)
    body = dpo_client.get(f"{QUEUE}/{request.pk}").json()
    assert body["details"] == {"correction": "Alicia"}
    assert [n["text"] for n in body["notes"]] == ["Check the ID first"]
    names = [e["name"] for e in body["trail"]]
    assert "RIGHTS_REQUEST_RECEIVED" in names and "RIGHTS_NOTE_ADDED" in names
    assert all(
        e["data"].get("request_id") == str(request.pk)
        or e["occurred_at"] >= body["received_at"][:19]
        for e in body["trail"]
    )
    assert_error(
        post(dpo_client, f"{QUEUE}/{request.pk}/notes", {"text": " "}), 400, "application_error"
    )
    assert_error(dpo_client.get(f"{QUEUE}/00000000-0000-0000-0000-000000000000"), 404, "not_found")


def test_it_refuses_with_reasons_and_only_with_reasons(dpo_client, alice_account):
    request = submit(alice_account.subject)
    path = f"{QUEUE}/{request.pk}/refuse"
    error = assert_error(
        post(dpo_client, path, {"basis": "excessive", "reason": "  "}), 400, "application_error"
    )
    assert error["details"] == {"reason": "empty"}
    error = assert_error(
        post(dpo_client, path, {"basis": "because", "reason": "No."}), 422, "invalid_input"
    )
    assert [problem["location"] for problem in error["details"]] == ["body.payload.basis"]
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_REQUEST_REFUSED).exists()

    response = post(dpo_client, path, {"basis": "manifestly_unfounded", "reason": "A test."})
    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    assert response.json()["refusal_reason"] == "A test."
    assert_error(
        post(dpo_client, path, {"basis": "excessive", "reason": "Again"}), 400, "application_error"
    )


def test_it_extends_once_and_within_the_limit(dpo_client, alice_account):
    request = submit(alice_account.subject)
    path = f"{QUEUE}/{request.pk}/extend"
    beyond = request.received_at.date() + timedelta(days=120)
    error = assert_error(
        post(dpo_client, path, {"due_on": beyond.isoformat(), "reason": "Complex"}),
        400,
        "application_error",
    )
    assert error["details"] == {"new_due_on": "out_of_range"}
    assert "no later than" in error["message"]
    assert_error(
        post(dpo_client, path, {"due_on": "31/12/2026", "reason": "Complex"}), 422, "invalid_input"
    )
    request.refresh_from_db()
    assert request.extended_due_on is None

    new_due = request.due_on + timedelta(days=30)
    response = post(dpo_client, path, {"due_on": new_due.isoformat(), "reason": "Complex"})
    assert response.status_code == 200
    assert response.json()["extended_due_on"] == new_due.isoformat()
    error = assert_error(
        post(dpo_client, path, {"due_on": new_due.isoformat(), "reason": "More"}),
        400,
        "application_error",
    )
    assert error["details"] == {"extension": "used"}


def test_it_waits_on_the_person_and_resumes(dpo_client, alice_account):
    request = submit(alice_account.subject, "rectification", details={"correction": "x"})
    assert_error(
        post(dpo_client, f"{QUEUE}/{request.pk}/wait", {"note": ""}), 400, "application_error"
    )
    response = post(dpo_client, f"{QUEUE}/{request.pk}/wait", {"note": "Which one?"})
    assert response.json()["status"] == "waiting_on_person"
    response = post(dpo_client, f"{QUEUE}/{request.pk}/resume", {})
    assert response.json()["status"] == "in_progress"


def test_it_applies_a_rectification(dpo_client, alice_account):
    inquiry = submit_persona("alice")
    request = submit(alice_account.subject, "rectification", details={"correction": "New phone"})
    path = f"{QUEUE}/{request.pk}/rectify"
    assert_error(post(dpo_client, path, {"changes": []}), 400, "application_error")
    bad = {"model": "contact.Inquiry", "record": str(inquiry.pk), "field": "email_index"}
    assert_error(post(dpo_client, path, {"changes": [bad]}), 400, "application_error")
    change = {"model": "contact.Inquiry", "record": str(inquiry.pk), "field": "phone"}
    response = post(dpo_client, path, {"changes": [{**change, "value": "+44 20 0000 1111"}]})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    assert Inquiry.objects.get(pk=inquiry.pk).phone == "+44 20 0000 1111"


def test_it_checks_a_value_through_the_api_as_the_page_does(dpo_client, alice_account):
    from qualipact.accounts.models import Preferences

    preferences = Preferences.objects.get(subject=alice_account.subject)
    request = submit(alice_account.subject, "rectification", details={"correction": "Language"})
    path = f"{QUEUE}/{request.pk}/rectify"
    change = {"model": "accounts.Preferences", "record": str(preferences.pk), "field": "language"}
    response = post(dpo_client, path, {"changes": [{**change, "value": "xx"}]})
    assert response.status_code in (400, 422), response.content
    email = {"model": "accounts.User", "record": str(alice_account.pk), "field": "email"}
    response = post(dpo_client, path, {"changes": [{**email, "value": "not an address"}]})
    assert response.status_code in (400, 422), response.content
    assert Preferences.objects.get(pk=preferences.pk).language == "en"
    assert alice_account.__class__.objects.get(pk=alice_account.pk).email == (
        "alice.marchetti@example.org"
    )


def test_it_keeps_notes_out_of_the_persons_api(dpo_client, alice_account, client):
    request = submit(alice_account.subject)
    post(dpo_client, f"{QUEUE}/{request.pk}/notes", {"text": "Internal: unusual pattern"})
    client.force_login(alice_account)
    for path in (MINE, f"{MINE}/{request.pk}"):
        response = client.get(path)
        assert response.status_code == 200
        assert "unusual pattern" not in response.content.decode()
        assert "notes" not in response.content.decode()


def test_it_lists_every_endpoint_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[MINE]) == {"get", "post"}
    assert set(paths[f"{MINE}/{{request_id}}"]) == {"get"}
    assert set(paths[QUEUE]) == {"get"}
    assert set(paths[f"{QUEUE}/{{request_id}}"]) == {"get"}
    for action in ("refuse", "extend", "notes", "rectify", "wait", "resume"):
        assert set(paths[f"{QUEUE}/{{request_id}}/{action}"]) == {"post"}, action
    parameters = {p["name"] for p in paths[QUEUE]["get"]["parameters"]}
    assert parameters == {"status", "due"}


def test_it_records_a_dpos_read_of_a_request_through_the_api(dpo_client, dpo_user, alice_account):
    """The API shows the person's words as the page does, so it records the view too."""
    from qualipact.privacy.audit import EventCode
    from qualipact.privacy.models import AuditEvent

    request = submit(alice_account.subject, "rectification", details={"correction": "Spelling"})
    views = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, subject_id=alice_account.subject_id
    )
    before = views.count()
    response = dpo_client.get(f"{QUEUE}/{request.pk}")
    assert response.status_code == 200
    assert response.json()["details"] == {"correction": "Spelling"}
    [event] = views.order_by("id")[before:]
    assert event.actor_id == str(dpo_user.pk)
    assert event.data["model"] == "rights.DataRequest" and event.data["fields"] == ["details"]
    assert event.data["role"] == "dpo"

"""The DPO queue and request pages: the role, the order, the actions, notes kept internal."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PASSWORD, deliver_queued, submit_persona
from qualipact.accounts.services import account_create
from qualipact.comms.events import CommsCode
from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.retention.models import LegalHold
from qualipact.retention.services import legal_hold_place
from qualipact.rights import services
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.rights.services import fulfil
from qualipact.rights.services.requests import TEXT_MAX
from qualipact.web.roles import DPO_GROUP, is_dpo

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

QUEUE = "/staff/rights/"
NOTE = "Internal only: the person sounded like a journalist, check twice"


def dpo_grant(user):
    group, _ = Group.objects.get_or_create(name=DPO_GROUP)
    user.groups.add(group)
    return user


def submit(subject, kind="access", *, details=None, verified=True, **dates):
    """A request as the person makes it; `dates` then moves it in time (received_at, due_on...)."""
    request = services.request_submit(
        subject=subject,
        kind=kind,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(subject.pk),
        details=details,
        verified=verified,
    )
    if dates:
        DataRequest.objects.filter(pk=request.pk).update(**dates)
        request.refresh_from_db()
    return request


def sent(smtp):
    """Subject line -> body of every message the SMTP server received."""
    return {m["Subject"]: m.get_payload(decode=True).decode() for m in smtp.messages}


def days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def dpo_user(staff_account):
    return dpo_grant(staff_account)


@pytest.fixture
def dpo_client(client, dpo_user):
    client.force_login(dpo_user)
    return client


@pytest.fixture
def alice(alice_account):
    return alice_account.subject


@pytest.fixture
def bob(bob_account):
    return bob_account.subject


def page(request):
    return f"/staff/rights/{request.pk}/"


# -- the role ----------------------------------------------------------------------------


def test_it_creates_the_dpo_group_in_a_migration():
    assert Group.objects.filter(name="DPO").exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, alice):
    request = submit(alice)
    for path in (QUEUE, page(request)):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accounts/login/?next=")


def test_it_refuses_staff_who_are_not_in_the_dpo_group(client, staff_account, alice):
    request = submit(alice)
    client.force_login(staff_account)
    for path in (QUEUE, page(request)):
        response = client.get(path)
        assert response.status_code == 403
        assert "data-role-only" in response.text
    response = client.post(f"{page(request)}refuse/", {"basis": "excessive", "reason": "No."})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS


def test_it_refuses_a_dpo_without_a_second_factor(client, alice):
    user = dpo_grant(
        account_create(
            username="dana",
            email="dana@qualipact.example",
            password=PASSWORD,
            email_verified=True,
            is_staff=True,
        )
    )
    client.force_login(user)
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "data-mfa-required" in response.text
    assert not is_dpo(user)
    TOTP.activate(user, generate_totp_secret())
    assert is_dpo(user)
    assert client.get(QUEUE).status_code == 200


def test_it_refuses_people_who_are_not_staff_even_in_the_group(client, alice_account):
    dpo_grant(alice_account)
    client.force_login(alice_account)
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "data-staff-only" in response.text


# -- the queue ---------------------------------------------------------------------------


@pytest.fixture
def queue_rows(alice, bob):
    """Five open requests at various dates and two closed ones."""
    return {
        "late3": submit(alice, due_on=days(-3)),
        "late1": submit(bob, "erasure", due_on=days(-1), verified=False),
        "in2": submit(alice, "rectification", details={"correction": "x"}, due_on=days(2)),
        "in10": submit(bob, due_on=days(10)),
        # Due in 5 days, but extended to 20: it comes after the one due in 10.
        "ext20": submit(alice, due_on=days(5), extended_due_on=days(20)),
        "done": submit(alice, due_on=days(-30), status=DataRequest.Status.COMPLETED),
        "refused": submit(bob, due_on=days(1), status=DataRequest.Status.REFUSED),
    }


def ids(rows, *names):
    return [str(rows[name].pk) for name in names]


def listed(response):
    return re.findall(r'data-request="([0-9a-f-]{36})"', response.text)


def test_it_lists_open_requests_overdue_first_then_by_the_date_they_are_due(dpo_client, queue_rows):
    response = dpo_client.get(QUEUE)
    assert response.status_code == 200
    assert listed(response) == ids(queue_rows, "late3", "late1", "in2", "in10", "ext20")
    assert response.text.count("data-overdue") == 2
    assert "-3 (overdue)" in response.text
    # Kind, regime, received, due, status and days left are shown.
    for text in (
        "Erase my data",
        "EU / UK (GDPR)",
        days(20).isoformat(),
        "(extended)",
        "Verifying",
    ):
        assert text in response.text


def test_it_filters_by_status_and_by_due_date(dpo_client, queue_rows):
    assert listed(dpo_client.get(QUEUE, {"due": "overdue"})) == ids(queue_rows, "late3", "late1")
    assert listed(dpo_client.get(QUEUE, {"due": "week"})) == ids(queue_rows, "in2")
    assert listed(dpo_client.get(QUEUE, {"status": "completed"})) == ids(queue_rows, "done")
    assert listed(dpo_client.get(QUEUE, {"status": "verifying"})) == ids(queue_rows, "late1")
    everything = listed(dpo_client.get(QUEUE, {"status": "all"}))
    # Closed requests are never "overdue": they follow the open late ones, by date.
    assert everything == ids(
        queue_rows, "late3", "late1", "done", "refused", "in2", "in10", "ext20"
    )
    assert listed(dpo_client.get(QUEUE, {"status": "all", "due": "week"})) == ids(
        queue_rows, "refused", "in2"
    )
    # An unknown filter value falls back to the default view.
    assert len(listed(dpo_client.get(QUEUE, {"status": "nonsense", "due": "x"}))) == 5


def test_it_shows_the_queue_in_the_same_number_of_queries_whatever_its_length(
    dpo_client, alice, django_assert_max_num_queries
):
    submit(alice)
    dpo_client.get(QUEUE)  # warm caches (content types and the like)
    with CaptureQueriesContext(connection) as few:
        dpo_client.get(QUEUE)
    for n in range(30):
        submit(alice, due_on=days(n - 15), extended_due_on=days(n) if n % 3 == 0 else None)
    # The requests, the names (one query per name field) and one staff-view event for the
    # one person listed: the events grow with the people shown, never with their requests.
    assert len(few.captured_queries) <= 18
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = dpo_client.get(QUEUE)
    assert len(listed(response)) == 31


# -- one request -------------------------------------------------------------------------


def test_it_shows_the_request_its_audit_trail_and_its_notes(dpo_client, dpo_user, alice):
    request = submit(alice, "objection", details={"purpose": "marketing"})
    services.request_note_add(request=request, text=NOTE, actor=Actor.staff(dpo_user.pk))
    response = dpo_client.get(page(request))
    assert response.status_code == 200
    assert "Object to processing" in response.text
    assert "marketing" in response.text  # the request's own details, decrypted
    assert NOTE in response.text
    trail = response.text.split("data-trail")[1]
    for code in (RightsCode.RIGHTS_REQUEST_RECEIVED, RightsCode.RIGHTS_NOTE_ADDED):
        assert f"{code.name} ({code.value})" in trail
    # The person's events since the request came in are there too (the email we sent).
    assert f"EMAIL_QUEUED ({CommsCode.EMAIL_QUEUED.value})" in trail


def test_it_answers_not_found_for_an_unknown_request(dpo_client):
    response = dpo_client.get("/staff/rights/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_it_adds_an_internal_note(dpo_client, dpo_user, alice):
    request = submit(alice)
    response = dpo_client.post(f"{page(request)}notes/", {"text": NOTE})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{page(request)}?done=note"
    note = RequestNote.objects.get(request=request)
    assert note.text == NOTE
    assert note.author == str(dpo_user.pk)
    assert dpo_client.post(f"{page(request)}notes/", {"text": "  "}).status_code == 400
    assert RequestNote.objects.filter(request=request).count() == 1


def test_it_refuses_a_request_with_a_basis_and_reasons_and_tells_the_person(
    dpo_client, alice, smtp
):
    request = submit(alice, "rectification", details={"correction": "My name is Alicia"})
    response = dpo_client.post(f"{page(request)}refuse/", {"basis": "excessive", "reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.text
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS

    response = dpo_client.post(
        f"{page(request)}refuse/",
        {"basis": "excessive", "reason": "Your fourth identical request this month."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.REFUSED
    assert request.refusal_basis == "excessive"
    deliver_queued()
    body = sent(smtp)["We cannot do what you asked"]
    assert "Your fourth identical request this month." in body
    assert "supervisory authority" in body
    # Closed: no more actions offered, and acting again is refused with a reason.
    response = dpo_client.post(f"{page(request)}wait/", {"note": "More?"})
    assert response.status_code == 400
    assert "This request is closed" in response.text


def test_it_extends_within_the_legal_limit_only(dpo_client, alice):
    request = submit(alice)
    too_far = request.received_at.date() + timedelta(days=200)
    response = dpo_client.post(
        f"{page(request)}extend/", {"due_on": too_far.isoformat(), "reason": "Complex."}
    )
    assert response.status_code == 400
    assert "no later than" in response.text
    request.refresh_from_db()
    assert request.extended_due_on is None

    new_due = request.due_on + timedelta(days=20)
    response = dpo_client.post(
        f"{page(request)}extend/",
        {"due_on": new_due.isoformat(), "reason": "Your data is spread over many systems."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.extended_due_on == new_due
    assert AuditEvent.objects.filter(
        code=RightsCode.RIGHTS_REQUEST_EXTENDED, data__request_id=str(request.pk)
    ).exists()


def test_it_waits_on_the_person_and_resumes(dpo_client, dpo_user, alice):
    request = submit(alice, "rectification", details={"correction": "Wrong phone"})
    response = dpo_client.post(f"{page(request)}wait/", {"note": "Which number is right?"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.WAITING_ON_PERSON
    assert 'data-action="resume"' in dpo_client.get(page(request)).text
    assert dpo_client.post(f"{page(request)}resume/").status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    changes = AuditEvent.objects.filter(
        code=RightsCode.RIGHTS_REQUEST_STATUS_CHANGED, data__request_id=str(request.pk)
    )
    assert [(e.data["to"], e.actor_id) for e in changes] == [
        ("waiting_on_person", str(dpo_user.pk)),
        ("in_progress", str(dpo_user.pk)),
    ]


def target(record, field, model="contact.Inquiry"):
    """The picker's value for one field of one record."""
    return f"{model}|{record.pk}|{field}"


def test_it_applies_a_rectification_after_showing_the_records(dpo_client, dpo_user, alice):
    inquiry = submit_persona("alice")
    request = submit(alice, "rectification", details={"correction": "My phone is +44 20 0000"})
    response = dpo_client.get(page(request), {"records": "1"})
    assert f'data-record="{inquiry.pk}"' in response.text
    assert AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_COLLECTED, actor_id=str(dpo_user.pk), subject_id=alice.pk
    ).exists()
    # A field that cannot be corrected is not offered, and posting it anyway is refused.
    assert target(inquiry, "email_index") not in response.text
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": target(inquiry, "email_index"), "value": "x"}
    )
    assert response.status_code == 400
    assert "data-rectify-error" in response.text
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": target(inquiry, "phone"), "value": "+44 20 0000"}
    )
    assert response.status_code == 302
    assert Inquiry.objects.get(pk=inquiry.pk).phone == "+44 20 0000"
    request.refresh_from_db()
    assert request.status == DataRequest.Status.COMPLETED
    assert request.outcome["corrected"] == ["contact.Inquiry.phone"]


def test_it_refuses_to_rectify_a_record_of_someone_else(dpo_client, alice, bob):
    bobs = submit_persona("bob")
    request = submit(alice, "rectification", details={"correction": "x"})
    assert target(bobs, "phone") not in dpo_client.get(page(request)).text
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": target(bobs, "phone"), "value": "+1 555"}
    )
    assert response.status_code == 400
    assert "data-rectify-error" in response.text
    assert Inquiry.objects.get(pk=bobs.pk).phone != "+1 555"
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS


# -- legal holds -------------------------------------------------------------------------


def test_it_places_a_hold_and_lifting_it_finishes_the_held_back_erasure(
    dpo_client, alice, django_capture_on_commit_callbacks
):
    submit_persona("alice")
    request = submit(alice, "erasure")
    response = dpo_client.post(
        f"{page(request)}holds/",
        {"basis": "legal_claims", "models": ["contact.Inquiry"], "note": "Case 2026-114"},
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get(subject=alice)
    assert hold.models_held == ["contact.Inquiry"]
    assert "Case 2026-114" in dpo_client.get(page(request)).text

    with django_capture_on_commit_callbacks(execute=True):
        fulfil.request_fulfil(request_id=request.pk)
    request.refresh_from_db()
    assert request.outcome["complete"] is False
    assert "contact.Inquiry" in request.outcome["kept"]
    assert Inquiry.objects.filter(subject=alice).exists()
    assert not vault.is_shredded(alice.pk)
    holds = dpo_client.get(page(request)).text.split("data-holds")[1]
    assert f'data-hold="{hold.pk}"' in holds
    assert "contact.Inquiry" in holds

    with django_capture_on_commit_callbacks(execute=True):
        response = dpo_client.post(f"{page(request)}holds/{hold.pk}/lift/")
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_at is not None
    request.refresh_from_db()
    assert request.outcome["complete"] is True
    assert "contact.Inquiry" in request.outcome["erased"]
    assert not Inquiry.objects.filter(subject=alice).exists()
    assert vault.is_shredded(alice.pk)
    # A lifted hold cannot be lifted again (once the repeated-submission window is over;
    # within it, the same form answers with the first one's page).
    cache.clear()
    assert dpo_client.post(f"{page(request)}holds/{hold.pk}/lift/").status_code == 400


def test_it_refuses_a_hold_on_an_undeclared_model_and_a_hold_of_another_person(
    dpo_client, dpo_user, alice, bob
):
    request = submit(alice)
    response = dpo_client.post(
        f"{page(request)}holds/", {"basis": "legal_claims", "models": ["auth.Group"]}
    )
    assert response.status_code == 400
    assert not LegalHold.objects.exists()
    bobs_hold = legal_hold_place(subject=bob, basis="legal_claims", actor=Actor.staff(dpo_user.pk))
    assert dpo_client.post(f"{page(request)}holds/{bobs_hold.pk}/lift/").status_code == 404
    bobs_hold.refresh_from_db()
    assert bobs_hold.lifted_at is None


# -- lifting a restriction ---------------------------------------------------------------


@pytest.fixture
def restricted(alice):
    request = submit(alice, "restriction")
    fulfil.request_fulfil(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == DataRequest.Status.COMPLETED
    assert DataSubject.objects.get(pk=alice.pk).restricted_at is not None
    return request


def test_it_refuses_to_lift_a_restriction_before_the_person_is_told(dpo_client, restricted, smtp):
    response = dpo_client.post(f"{page(restricted)}restriction/lift/")
    assert response.status_code == 400
    assert "Tell the person first" in response.text
    assert DataSubject.objects.get(pk=restricted.subject_id).restricted_at is not None

    deliver_queued()
    before = len(smtp.messages)
    response = dpo_client.post(
        f"{page(restricted)}restriction/notify/", {"lift_on": days(0).isoformat()}
    )
    assert response.status_code == 302
    deliver_queued()
    notice = smtp.messages[before:]
    assert len(notice) == 1
    assert notice[0]["Subject"] == "We will lift the restriction on your data"
    assert notice[0]["To"] == "alice.marchetti@example.org"
    assert days(0).isoformat() in notice[0].get_payload(decode=True).decode()
    restricted.refresh_from_db()
    assert restricted.outcome["lift_on"] == days(0).isoformat()
    assert "lift_notified_at" in restricted.outcome

    response = dpo_client.post(f"{page(restricted)}restriction/lift/")
    assert response.status_code == 302
    assert DataSubject.objects.get(pk=restricted.subject_id).restricted_at is None
    restricted.refresh_from_db()
    assert "lifted_at" in restricted.outcome
    assert AuditEvent.objects.filter(
        code=EventCode.SUBJECT_RESTRICTION_LIFTED, subject_id=restricted.subject_id
    ).exists()
    # Nothing left to lift (once the repeated-submission window is over).
    cache.clear()
    assert dpo_client.post(f"{page(restricted)}restriction/lift/").status_code == 400


def test_it_lifts_a_restriction_no_earlier_than_the_day_the_person_was_told(dpo_client, restricted):
    response = dpo_client.post(
        f"{page(restricted)}restriction/notify/", {"lift_on": days(-1).isoformat()}
    )
    assert response.status_code == 400
    dpo_client.post(f"{page(restricted)}restriction/notify/", {"lift_on": days(14).isoformat()})
    response = dpo_client.post(f"{page(restricted)}restriction/lift/")
    assert response.status_code == 400
    assert f"lifted on {days(14).isoformat()}, not before" in response.text
    assert DataSubject.objects.get(pk=restricted.subject_id).restricted_at is not None


# -- notes stay internal -----------------------------------------------------------------


def test_it_never_shows_a_note_to_the_person(client, dpo_user, alice_account, smtp):
    alice = alice_account.subject
    actor = Actor.staff(dpo_user.pk)
    request = submit(alice, "rectification", details={"correction": "Wrong address"})
    services.request_note_add(request=request, text=NOTE, actor=actor)
    services.request_wait_on_person(request=request, note="Which address is right?", actor=actor)
    services.request_resume(request=request, actor=actor)
    services.request_refuse(request=request, basis="excessive", reason="Too many.", actor=actor)
    deliver_queued()
    assert len(smtp.messages) >= 4
    for message in smtp.messages:
        assert "journalist" not in message.as_string()

    client.force_login(alice_account)
    for path in (
        "/rights/",
        f"/rights/{request.pk}/",
        "/api/rights/requests",
        f"/api/rights/requests/{request.pk}",
        "/accounts/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "journalist" not in response.content.decode(), path


def test_every_free_text_field_of_the_dpos_pages_has_the_apis_limit():
    """The DPO's pages and the DPO API refuse the same over-long text (TEXT_MAX)."""
    from django import forms

    from qualipact.rights.views.dpo import FORMS

    unlimited = [
        f"{action}.{name}"
        for action, form in FORMS.items()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.CharField)
        and (field.max_length is None or field.max_length > TEXT_MAX)
    ]
    assert unlimited == []


def test_it_refuses_an_over_long_note_or_hold_on_the_dpos_page(staff_account, alice_account):
    from django.test import Client

    request = submit(alice_account.subject, "restriction")
    client = Client()
    client.force_login(dpo_grant(staff_account))
    too_long = "x" * (TEXT_MAX + 1)
    base = f"/staff/rights/{request.pk}"
    note = client.post(f"{base}/notes/", {"text": too_long})
    hold = client.post(f"{base}/holds/", {"basis": "legal_claims", "note": too_long})
    assert (note.status_code, hold.status_code) == (400, 400)
    assert not RequestNote.objects.exists() and not LegalHold.objects.exists()

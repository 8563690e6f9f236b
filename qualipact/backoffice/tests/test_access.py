"""Access transparency: "Who accessed my data", the access export, the bulk-access alert
and the Security page."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from django.urls import reverse

from conftest import deliver_queued
from qualipact.backoffice.events import BackofficeCode
from qualipact.backoffice.tests.conftest import ALICE_USERNAME
from qualipact.backoffice.tests.test_staff_urls import staff_member
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.rights.services import export_build
from qualipact.rights.tests.test_exports import schema_errors
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def viewer(staff, role=Role.DPO, purpose="data_subject_rights") -> StaffView:
    return StaffView(actor=Actor.staff(str(staff.pk)), role=role, purpose=purpose)


def rows_of(response) -> int:
    return response.content.decode().count("data-access>")


# -- who accessed my data -------------------------------------------------------------------


def test_it_lists_a_dpos_view_of_the_records_for_the_person_and_in_the_access_export(
    client, dana, alice_seeded
):
    request = alice_seeded["request"]
    client.force_login(dana)
    assert client.get(f"/staff/rights/{request.pk}/?records=1").status_code == 200

    client.force_login(alice_seeded["account"])
    home = client.get(reverse("accounts:home")).content.decode()
    assert 'href="/accounts/who-accessed/" data-who-accessed-link' in home
    response = client.get("/accounts/who-accessed/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert rows_of(response) == 1  # one look at the records is one access, whatever it showed
    assert "Data Protection Officer" in page
    assert "Answering requests about your rights" in page
    assert "Your contact message: name, email, phone, postal address, subject, message" in page
    assert "Your account: username, email," in page
    # Never who the staff member is, and no internal names.
    assert "dana" not in page and str(dana.pk) not in page
    assert "contact.Inquiry" not in page and "accounts.User" not in page

    archive = export_build(
        subject=alice_seeded["account"].subject, kind="access", actor=Actor.system()
    )
    files = zipfile.ZipFile(io.BytesIO(archive.zip_bytes))
    document = json.loads(files.read("data.json"))
    assert schema_errors(json.loads(files.read("schema.json")), document) == []
    [listed] = document["staff_accesses"]
    assert listed["role"] == "Data Protection Officer"
    assert listed["purpose"] == "Answering requests about your rights"
    assert (
        "contact message: name, email, phone, postal address, subject, message" in listed["viewed"]
    )
    summary = files.read("summary.html").decode()
    assert "Who accessed your data" in summary and "Data Protection Officer" in summary
    assert "dana" not in json.dumps(listed) and "dana" not in summary.lower().split("<h2>who")[1]


def test_it_leaves_the_staff_accesses_out_of_a_portability_export(dana, alice_seeded):
    subject = alice_seeded["account"].subject
    viewer(dana).record(subject=subject, model="contact.Inquiry", fields=["message"])
    archive = export_build(subject=subject, kind="portability", actor=Actor.system())
    document = json.loads(zipfile.ZipFile(io.BytesIO(archive.zip_bytes)).read("data.json"))
    assert "staff_accesses" not in document


def test_it_pages_the_accesses_newest_first_and_shows_each_person_only_their_own(
    client, dana, alice_seeded, bob_account
):
    subject = alice_seeded["account"].subject
    for i in range(30):
        # Alternate purposes: views of one page load (same staff, role, purpose) merge.
        purpose = "customer_support" if i % 2 else "data_subject_rights"
        viewer(dana, purpose=purpose).record(
            subject=subject, model="accounts.User", fields=["email"]
        )
    client.force_login(alice_seeded["account"])
    first = client.get("/accounts/who-accessed/")
    assert rows_of(first) == 25 and 'href="?page=2"' in first.content.decode()
    assert rows_of(client.get("/accounts/who-accessed/?page=2")) == 5
    assert rows_of(client.get("/accounts/who-accessed/?page=nonsense")) == 25

    client.force_login(bob_account)
    response = client.get("/accounts/who-accessed/")
    assert rows_of(response) == 0 and "data-no-accesses" in response.content.decode()


def test_it_sends_a_visitor_who_is_not_signed_in_to_sign_in(client):
    response = client.get("/accounts/who-accessed/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not response.cookies


def test_it_links_the_page_from_the_home_pages_promise(client):
    assert 'href="/accounts/who-accessed/"' in client.get("/").content.decode()


def test_it_records_what_the_underage_tool_shows_and_lists_it_for_the_person(
    client, dana, alice_seeded
):
    client.force_login(dana)
    response = client.post(
        reverse("accounts:staff_underage"), {"action": "find", "username": ALICE_USERNAME}
    )
    assert ALICE_USERNAME in response.content.decode()
    [event] = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, subject_id=alice_seeded["account"].subject_id
    )
    assert event.actor_id == str(dana.pk)
    assert event.data == {
        "role": "dpo",
        "model": "accounts.User",
        "fields": ["username"],
        "records": 1,
    }

    client.force_login(alice_seeded["account"])
    page = client.get("/accounts/who-accessed/").content.decode()
    assert "Legal compliance and obligations" in page and "Your account: username" in page


# -- the bulk-access alert ------------------------------------------------------------------


def view_people(staff, count, capture) -> None:
    for _ in range(count):
        subject = DataSubject.objects.create()
        with capture(execute=True):
            viewer(staff).record(subject=subject, model="contact.Inquiry", fields=["message"])


def alerts():
    return list(AuditEvent.objects.filter(code=BackofficeCode.ACCESS_ALERT_RAISED))


def test_it_alerts_the_security_officers_once_past_the_threshold_and_not_below(
    settings, smtp, no_broker, django_capture_on_commit_callbacks, officer, dana
):
    settings.ACCESS_ALERT_PEOPLE = 3
    settings.ACCESS_ALERT_WINDOW_MINUTES = 10
    second_officer = staff_member("sol", Role.SECURITY_OFFICER)
    snooper = staff_member("snooper", Role.SUPPORT_AGENT)

    view_people(snooper, 3, django_capture_on_commit_callbacks)
    # Three people, and the same person again: at the threshold, not past it.
    subject = AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED).last().subject_id
    with django_capture_on_commit_callbacks(execute=True):
        viewer(snooper).record(subject=subject, model="accounts.User", fields=["email"])
    assert alerts() == []

    view_people(snooper, 1, django_capture_on_commit_callbacks)
    [alert] = alerts()
    assert alert.data == {
        "staff": str(snooper.pk),
        "people": 4,
        "threshold": 3,
        "window_minutes": 10,
    }
    view_people(snooper, 5, django_capture_on_commit_callbacks)
    assert len(alerts()) == 1  # at most one per staff member and window

    deliver_queued()
    recipients = sorted(to for _, tos in smtp.envelopes for to in tos)
    assert recipients == sorted([officer.email, second_officer.email])  # not the DPO
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "snooper" in body and "4 different people" in body and "10 minutes" in body
    assert "/staff/security/" in body
    assert str(subject) not in body


def test_it_alerts_about_each_staff_member_on_their_own(
    settings, django_capture_on_commit_callbacks, no_broker, officer, dana
):
    settings.ACCESS_ALERT_PEOPLE = 2
    other = staff_member("other", Role.DPO)
    view_people(dana, 2, django_capture_on_commit_callbacks)
    view_people(other, 2, django_capture_on_commit_callbacks)
    assert alerts() == []
    view_people(other, 1, django_capture_on_commit_callbacks)
    assert [a.data["staff"] for a in alerts()] == [str(other.pk)]


def test_it_ignores_a_view_that_was_rolled_back(
    settings, django_capture_on_commit_callbacks, no_broker, officer, dana
):
    from django.db import transaction

    settings.ACCESS_ALERT_PEOPLE = 1
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        for _ in range(3):
            viewer(dana).record(subject=uuid.uuid4(), model="contact.Inquiry", fields=["name"])
        raise RuntimeError("the page failed")
    assert callbacks == [] and alerts() == []


# -- the Security page ------------------------------------------------------------------------


def test_it_shows_the_security_officer_alerts_and_accesses_without_anyones_data(
    client, settings, django_capture_on_commit_callbacks, no_broker, officer, dana, alice_seeded
):
    settings.ACCESS_ALERT_PEOPLE = 1
    client.force_login(dana)
    client.get(f"/staff/rights/{alice_seeded['request'].pk}/?records=1")
    view_people(dana, 2, django_capture_on_commit_callbacks)

    client.force_login(officer)
    console = client.get("/staff/").content.decode()
    assert 'data-console-page="backoffice:security"' in console
    assert "<strong>1</strong> access alerts in the last 7 days" in console
    response = client.get("/staff/security/")
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert page.count("data-alert>") == 1 and "dana" in page
    assert str(alice_seeded["account"].subject_id) in page
    assert "contact message" in page and "Data Protection Officer" in page
    for value in alice_seeded["values"]:
        assert value not in page
    # The officer's look at staff usernames is itself a recorded access.
    assert AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED,
        actor_id=str(officer.pk),
        subject_id=dana.subject_id,
        data__role="security_officer",
    ).exists()


def test_it_says_once_what_one_page_showed_twice_in_the_same_moment(dana, alice_seeded):
    """A page that records the same kind of view twice in one load (a name in the header
    and in a list) reads as one line on the person's page."""
    from qualipact.privacy.access import StaffView, staff_accesses_describe
    from qualipact.privacy.audit import Actor
    from qualipact.privacy.models import AuditEvent

    subject = alice_seeded["account"].subject
    viewer = StaffView(actor=Actor.staff(dana.pk), role=Role.DPO, purpose="data_subject_rights")
    for _ in range(2):
        viewer.record(subject=subject, model="contact.Inquiry", fields=["name"])
    events = AuditEvent.objects.filter(subject_id=subject.pk, code=111).order_by("-id")
    [access] = staff_accesses_describe(events, role_labels=dict(Role.choices))
    assert [str(item) for item in access.viewed] == ["contact message: name"]

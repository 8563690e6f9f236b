"""The "Staff and roles" pages and the invitee's page behind the emailed link."""

from __future__ import annotations

import re

import pytest

from conftest import reauthenticate
from qualipact.backoffice.events import BackofficeCode
from qualipact.backoffice.models import StaffInvite
from qualipact.backoffice.services import staff_invite
from qualipact.backoffice.tests.conftest import emails_to, events, invite_token, make_staff
from qualipact.privacy.audit import EventCode
from qualipact.web.roles import Role, roles_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

NEW_PASSWORD = "nine quiet owls count the stars"


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_it_lists_staff_with_roles_and_mfa_and_pending_invitations_recording_the_view(
    admin_client, admin
):
    make_staff("nomfa", Role.DPO, mfa=False)
    invite = staff_invite(email="nora.new@example.org", roles=["support_agent"], by=admin)

    page = admin_client.get("/staff/people/")

    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    text = page.text
    assert 'data-staff-member="ada"' in text and 'data-staff-member="nomfa"' in text
    assert "Not set up" in text and "Data Protection Officer" in text
    assert "nora.new@example.org" in text and "Support agent" in text
    [view] = events(EventCode.SUBJECT_DATA_VIEWED, subject_id=invite.subject_id)
    assert view.data["fields"] == ["email"] and view.data["role"] == "administrator"


def test_it_counts_pending_invitations_on_the_console(admin_client, admin):
    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    page = admin_client.get("/staff/")
    assert 'data-console-page="backoffice:staff_list"' in page.text
    assert "<strong>1</strong> pending invitations" in page.text


def test_it_sends_an_invitation_from_the_form(admin_client):
    response = admin_client.post(
        "/staff/people/invite/", {"email": "nora.new@example.org", "roles": ["dpo"]}
    )
    assert response.status_code == 302 and response["Location"].endswith("?done=invited")
    assert StaffInvite.objects.count() == 1 and len(emails_to("nora.new@example.org")) == 1


def test_it_shows_clear_errors_and_keeps_what_was_typed(admin_client):
    response = admin_client.post("/staff/people/invite/", {"email": "nora.new@example.org"})
    assert response.status_code == 400
    assert "Choose at least one role." in response.text
    assert 'value="nora.new@example.org"' in response.text
    assert StaffInvite.objects.count() == 0


def test_it_refuses_an_address_that_has_an_account_on_the_form(admin_client, agent):
    response = admin_client.post("/staff/people/invite/", {"email": agent.email, "roles": ["dpo"]})
    assert response.status_code == 400 and "already has an account" in response.text


def test_it_cancels_an_invitation_from_the_list(admin_client, admin):
    invite = staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    response = admin_client.post(f"/staff/people/invitations/{invite.pk}/cancel/")
    assert response.status_code == 302 and StaffInvite.objects.count() == 0
    again = admin_client.post(f"/staff/people/invitations/{invite.pk}/cancel/")
    assert again.status_code == 409 and "no longer pending" in again.text


def test_it_changes_roles_with_checkboxes(admin_client, agent):
    page = admin_client.get(f"/staff/people/{agent.pk}/")
    assert page.status_code == 200
    assert re.search(r'value="support_agent"[^>]*checked', page.text)
    assert not re.search(r'value="dpo"[^>]*checked', page.text)
    response = admin_client.post(f"/staff/people/{agent.pk}/", {"roles": ["dpo", "recruiter"]})
    assert response.status_code == 302
    agent.__dict__.pop("_staff_roles", None)
    assert roles_of(agent) == {Role.DPO, Role.RECRUITER}
    assert "Roles saved" in admin_client.get(response["Location"]).text


def test_it_shows_why_the_last_administrator_keeps_the_role(admin_client, admin):
    response = admin_client.post(f"/staff/people/{admin.pk}/", {"roles": ["dpo"]})
    assert response.status_code == 409 and "last administrator" in response.text
    assert roles_of(admin) == {Role.ADMINISTRATOR}


def test_it_ends_staff_access_from_the_person_page(admin_client, agent):
    response = admin_client.post(f"/staff/people/{agent.pk}/deactivate/")
    assert response.status_code == 302 and response["Location"].endswith("?done=ended")
    agent.refresh_from_db()
    assert not agent.is_staff
    assert admin_client.get(f"/staff/people/{agent.pk}/").status_code == 404
    assert len(events(BackofficeCode.STAFF_DEACTIVATED)) == 1


# -- the invitee's page -------------------------------------------------------------------


@pytest.fixture
def token(admin):
    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    return invite_token("nora.new@example.org")


def test_it_shows_the_invitee_the_roles_and_sets_no_cookie(client, token):
    page = client.get(f"/join-staff/{token}/")
    assert page.status_code == 200 and "Data Protection Officer" in page.text
    assert page.cookies == {}


def test_it_shows_a_clear_page_for_an_unknown_link(client):
    page = client.get("/join-staff/not-a-real-token/")
    assert page.status_code == 400 and "expired" in page.text and page.cookies == {}


def test_it_shows_form_errors_and_keeps_the_invitation(client, token):
    response = client.post(
        f"/join-staff/{token}/",
        {"username": "nora", "password": NEW_PASSWORD, "password_again": "something else"},
    )
    assert response.status_code == 400 and "two passwords differ" in response.text
    weak = client.post(
        f"/join-staff/{token}/",
        {"username": "nora", "password": "password", "password_again": "password"},
    )
    assert weak.status_code == 400 and "at least 15 characters" in weak.text
    assert StaffInvite.objects.count() == 1 and response.cookies == {}


def test_it_creates_the_account_signs_in_and_sends_to_the_authenticator_app(client, token):
    response = client.post(
        f"/join-staff/{token}/",
        {"username": "nora", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # Signed in: allauth asks for the password once more before adding a factor.
    assert "/accounts/reauthenticate/" in client.get(response["Location"])["Location"]
    reauthenticate(client, NEW_PASSWORD)
    page = client.get(response["Location"])
    assert page.status_code == 200 and "data-totp-secret" in page.text
    # Until MFA is set up, staff pages say so.
    assert "data-mfa-required" in client.get("/staff/rights/").text
    # The link works once.
    assert client.get(f"/join-staff/{token}/").status_code in (400, 409)

"""Staff roles, invitations and deactivation: audited, emailed to the person concerned,
and refused to anyone but an administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD, account_for
from qualipact.backoffice.events import BackofficeCode
from qualipact.backoffice.models import StaffInvite
from qualipact.backoffice.services import (
    InviteInvalid,
    staff_deactivate,
    staff_invite,
    staff_invite_accept,
    staff_invite_cancel,
    staff_role_grant,
    staff_role_remove,
    staff_roles_set,
)
from qualipact.backoffice.tests.conftest import emails_to, events, invite_token, make_staff
from qualipact.privacy.errors import ApplicationError
from qualipact.web.roles import Role, roles_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

NEW_PASSWORD = "nine quiet owls count the stars"


def fresh_roles(user):
    user.refresh_from_db()
    user.__dict__.pop("_staff_roles", None)
    return roles_of(user)


def test_it_grants_a_role_audits_it_and_emails_the_person_naming_the_role(admin, agent):
    assert staff_role_grant(user=agent, role=Role.DPO, by=admin) is True

    assert fresh_roles(agent) == {Role.SUPPORT_AGENT, Role.DPO}
    [event] = events(BackofficeCode.STAFF_ROLE_GRANTED, subject_id=agent.subject_id)
    assert event.actor_kind == "staff" and event.actor_id == str(admin.pk)
    assert event.data == {"role": "dpo"} and event.purpose == "security"
    [email] = emails_to(agent.email)
    assert "Data Protection Officer" in email.body and "dpo" not in email.body.lower().split()


def test_it_writes_nothing_when_the_role_is_already_held(admin, agent):
    assert staff_role_grant(user=agent, role=Role.SUPPORT_AGENT, by=admin) is False
    assert events(BackofficeCode.STAFF_ROLE_GRANTED) == [] and emails_to(agent.email) == []


def test_it_removes_a_role_audits_it_and_emails_the_person(admin, agent):
    assert staff_role_remove(user=agent, role=Role.SUPPORT_AGENT, by=admin) is True

    assert fresh_roles(agent) == frozenset()
    [event] = events(BackofficeCode.STAFF_ROLE_REMOVED, subject_id=agent.subject_id)
    assert event.data == {"role": "support_agent"}
    [email] = emails_to(agent.email)
    assert "Support agent" in email.body and "no staff role" in email.body


@pytest.mark.parametrize("change", [staff_role_grant, staff_role_remove])
def test_it_lets_only_an_administrator_change_roles(agent, change):
    dpo = make_staff("dora", Role.DPO)
    with pytest.raises(ApplicationError, match="Only an administrator"):
        change(user=agent, role=Role.SUPPORT_AGENT, by=dpo)
    assert fresh_roles(agent) == {Role.SUPPORT_AGENT}
    assert emails_to(agent.email) == []


def test_it_refuses_roles_for_an_account_that_is_not_staff(admin):
    alice = account_for("alice")
    with pytest.raises(ApplicationError, match="not a staff account"):
        staff_role_grant(user=alice, role=Role.DPO, by=admin)
    assert alice.groups.count() == 0


def test_it_refuses_to_remove_the_last_administrator(admin):
    with pytest.raises(ApplicationError, match="last administrator"):
        staff_role_remove(user=admin, role=Role.ADMINISTRATOR, by=admin)
    with pytest.raises(ApplicationError, match="last administrator"):
        staff_roles_set(user=admin, roles=[Role.DPO], by=admin)
    assert fresh_roles(admin) == {Role.ADMINISTRATOR}
    assert events(BackofficeCode.STAFF_ROLE_REMOVED) == []


def test_it_lets_an_administrator_step_down_when_another_remains(admin):
    other = make_staff("otto", Role.ADMINISTRATOR)
    assert staff_role_remove(user=admin, role=Role.ADMINISTRATOR, by=other) is True
    assert fresh_roles(admin) == frozenset()


def test_it_sets_roles_from_checkboxes_with_one_event_per_change_and_one_email(admin, agent):
    added, removed = staff_roles_set(user=agent, roles=["dpo", "security_officer"], by=admin)

    assert added == [Role.DPO, Role.SECURITY_OFFICER] and removed == [Role.SUPPORT_AGENT]
    assert fresh_roles(agent) == {Role.DPO, Role.SECURITY_OFFICER}
    assert len(events(BackofficeCode.STAFF_ROLE_GRANTED, subject_id=agent.subject_id)) == 2
    assert len(events(BackofficeCode.STAFF_ROLE_REMOVED, subject_id=agent.subject_id)) == 1
    [email] = emails_to(agent.email)
    assert "Data Protection Officer, Security officer" in email.body
    assert "Support agent" in email.body


def test_it_deactivates_a_staff_member_ends_sessions_audits_and_emails(client, admin):
    agent = make_staff("sam", Role.SUPPORT_AGENT, mfa=False)  # signs in with a password alone
    client.post("/accounts/login/", {"login": "sam", "password": PASSWORD})
    assert "_auth_user_id" in client.session

    held = staff_deactivate(user=agent, by=admin)

    assert held == [Role.SUPPORT_AGENT]
    agent.refresh_from_db()
    assert agent.is_staff is False and agent.is_active is True
    assert fresh_roles(agent) == frozenset() and agent.groups.count() == 0
    [event] = events(BackofficeCode.STAFF_DEACTIVATED, subject_id=agent.subject_id)
    assert event.data == {"roles": ["support_agent"], "sessions": 1}
    assert client.get("/accounts/").status_code == 302  # signed out
    [email] = emails_to(agent.email)
    assert email.subject_line == "Your staff access has ended" and "Support agent" in email.body


def test_it_refuses_to_deactivate_yourself_or_as_a_non_administrator(admin, agent):
    with pytest.raises(ApplicationError, match="your own access"):
        staff_deactivate(user=admin, by=admin)
    with pytest.raises(ApplicationError, match="Only an administrator"):
        staff_deactivate(user=admin, by=agent)
    admin.refresh_from_db()
    assert admin.is_staff and fresh_roles(admin) == {Role.ADMINISTRATOR}


# -- invitations --------------------------------------------------------------------------


def test_it_invites_with_a_hashed_token_an_encrypted_address_and_an_email(admin):
    invite = staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)

    [email] = emails_to("nora.new@example.org")
    assert "Data Protection Officer" in email.body and "7 days" in email.body
    token = invite_token("nora.new@example.org")
    stored = StaffInvite.objects.get()
    assert stored.token_hash != token and token not in stored.token_hash
    assert stored.email == "nora.new@example.org" and stored.roles == ["dpo"]
    [event] = events(BackofficeCode.STAFF_INVITED, subject_id=invite.subject_id)
    assert event.actor_id == str(admin.pk) and event.data["roles"] == ["dpo"]
    assert "nora" not in str(event.data)


@pytest.mark.parametrize(
    ("email", "roles", "message"),
    [
        ("not-an-address", ["dpo"], "valid email"),
        ("nora.new@example.org", [], "at least one role"),
        ("nora.new@example.org", ["king"], "Unknown staff role"),
        ("alice.marchetti@example.org", ["dpo"], "already has an account"),
    ],
)
def test_it_refuses_a_bad_invitation_and_stores_nothing(admin, email, roles, message):
    account_for("alice")
    with pytest.raises(ApplicationError, match=message):
        staff_invite(email=email, roles=roles, by=admin)
    assert StaffInvite.objects.count() == 0 and events(BackofficeCode.STAFF_INVITED) == []


def test_it_lets_only_an_administrator_invite(agent):
    with pytest.raises(ApplicationError, match="Only an administrator"):
        staff_invite(email="nora.new@example.org", roles=["dpo"], by=agent)
    assert StaffInvite.objects.count() == 0


def test_it_replaces_an_earlier_invitation_to_the_same_address(admin):
    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    first = invite_token("nora.new@example.org")
    staff_invite(email="nora.new@example.org", roles=["support_agent"], by=admin)

    assert StaffInvite.objects.get().roles == ["support_agent"]
    assert len(events(BackofficeCode.STAFF_INVITE_CANCELLED)) == 1
    with pytest.raises(InviteInvalid):
        staff_invite_accept(token=first, username="nora", password=NEW_PASSWORD)


def test_it_accepts_an_invitation_once_with_the_roles_and_a_verified_address(admin):
    invite = staff_invite(email="nora.new@example.org", roles=["dpo", "support_agent"], by=admin)
    token = invite_token("nora.new@example.org")

    user = staff_invite_accept(token=token, username="nora", password=NEW_PASSWORD)

    assert user.is_staff and user.email_verified_at is not None
    assert user.subject_id == invite.subject_id
    assert fresh_roles(user) == {Role.DPO, Role.SUPPORT_AGENT}
    assert user.check_password(NEW_PASSWORD)
    assert StaffInvite.objects.count() == 0
    [accepted] = events(BackofficeCode.STAFF_INVITE_ACCEPTED, subject_id=user.subject_id)
    assert accepted.data["roles"] == ["dpo", "support_agent"]
    grants = events(BackofficeCode.STAFF_ROLE_GRANTED, subject_id=user.subject_id)
    assert {g.actor_id for g in grants} == {str(admin.pk)}
    assert emails_to("nora.new@example.org")[-1].subject_line == "Your staff account is ready"
    with pytest.raises(InviteInvalid):
        staff_invite_accept(token=token, username="nora2", password=NEW_PASSWORD)


def test_it_keeps_the_invitation_when_the_password_is_weak(admin):
    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    token = invite_token("nora.new@example.org")
    with pytest.raises(ApplicationError, match="at least 15 characters"):
        staff_invite_accept(token=token, username="nora", password="short")
    assert StaffInvite.objects.count() == 1
    staff_invite_accept(token=token, username="nora", password=NEW_PASSWORD)


def test_it_refuses_an_expired_invitation(admin):
    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    StaffInvite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InviteInvalid):
        staff_invite_accept(
            token=invite_token("nora.new@example.org"), username="nora", password=NEW_PASSWORD
        )


def test_it_cancels_an_invitation(admin):
    invite = staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    token = invite_token("nora.new@example.org")
    staff_invite_cancel(invite_id=invite.pk, by=admin)

    assert StaffInvite.objects.count() == 0
    [event] = events(BackofficeCode.STAFF_INVITE_CANCELLED, subject_id=invite.subject_id)
    assert event.actor_id == str(admin.pk)
    with pytest.raises(InviteInvalid):
        staff_invite_accept(token=token, username="nora", password=NEW_PASSWORD)
    with pytest.raises(ApplicationError, match="no longer pending"):
        staff_invite_cancel(invite_id=invite.pk, by=admin)


def test_it_lets_the_retention_engine_delete_an_invitation_once_its_link_expired(admin):
    from qualipact.retention.engine import retention_sweep

    staff_invite(email="nora.new@example.org", roles=["dpo"], by=admin)
    staff_invite(email="olga.new@example.org", roles=["dpo"], by=admin)
    StaffInvite.objects.filter(
        email_index=StaffInvite.objects.order_by("created_at")[0].email_index
    ).update(expires_at=timezone.now() - timedelta(seconds=1))

    [result] = retention_sweep(model="backoffice.StaffInvite")

    assert result.done == 1
    assert [invite.email for invite in StaffInvite.objects.all()] == ["olga.new@example.org"]

"""Reads for the back office's staff pages: the staff and their roles, pending invitations.

Invitations hold an encrypted address: the selector that decrypts it for a staff page
records the view (`privacy.access.StaffView`), one event per invited person, so the
person can see it ("who accessed my data").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from qualipact.accounts.models import User
from qualipact.backoffice.models import StaffInvite
from qualipact.backoffice.services.staff import InviteInvalid
from qualipact.privacy.access import StaffView
from qualipact.privacy.tokens import token_hash
from qualipact.web.roles import ROLE_GROUPS, STRONG_FACTORS, Role

_ROLE_OF_GROUP = {group: role for role, group in ROLE_GROUPS.items()}


@dataclass(frozen=True)
class StaffMember:
    """One row of the "Staff and roles" page (no decrypted data: username and roles)."""

    id: uuid.UUID
    username: str
    roles: list[Role]
    mfa: bool
    joined: datetime

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in self.roles]


@dataclass(frozen=True)
class PendingInvite:
    id: uuid.UUID
    email: str
    roles: list[Role]
    expires_at: datetime

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in self.roles]


def _ordered(roles: set[Role]) -> list[Role]:
    return sorted(roles, key=list(Role).index)


def _members(users: list[User]) -> list[StaffMember]:
    with_mfa = set(
        Authenticator.objects.filter(
            user_id__in=[u.pk for u in users], type__in=STRONG_FACTORS
        ).values_list("user_id", flat=True)
    )
    return [
        StaffMember(
            id=user.pk,
            username=user.username,
            roles=_ordered(
                {_ROLE_OF_GROUP[g.name] for g in user.groups.all() if g.name in _ROLE_OF_GROUP}
            ),
            mfa=user.pk in with_mfa,
            joined=user.created_at,
        )
        for user in users
    ]


def staff_members() -> list[StaffMember]:
    """Every active staff member, by username, with roles and whether a second factor is
    set up. Three queries whatever the number of staff."""
    users = list(
        User.objects.filter(is_staff=True, is_active=True)
        .order_by("username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
    )
    return _members(users)


def staff_member_get(*, user_id: uuid.UUID) -> User:
    """An active staff member's account by id; `Http404` for anyone else."""
    user = User.objects.filter(pk=user_id, is_staff=True, is_active=True).first()
    if user is None:
        raise Http404("No such staff member")
    return user


def staff_member_row(user: User) -> StaffMember:
    return _members([user])[0]


def invites_pending(*, viewer: StaffView) -> list[PendingInvite]:
    """Invitations not yet accepted nor expired, newest first, with the address decrypted
    for `viewer` (one recorded staff view per invitation)."""
    invites = list(StaffInvite.objects.filter(expires_at__gt=timezone.now()))
    rows = []
    for invite in invites:
        viewer.record(subject=invite.subject_id, model="backoffice.StaffInvite", fields=["email"])
        rows.append(
            PendingInvite(
                id=invite.pk,
                email=invite.email,
                roles=_ordered({Role(value) for value in invite.roles}),
                expires_at=invite.expires_at,
            )
        )
    return rows


def invites_waiting_count() -> int:
    """How many invitations are pending (sent, neither accepted nor expired)."""
    return StaffInvite.objects.filter(expires_at__gt=timezone.now()).count()


def invite_for_token(*, token: str) -> list[Role]:
    """The roles a valid invitation link offers (the accept page says them); raises
    `InviteInvalid` for an unknown, used, cancelled or expired link."""
    invite = StaffInvite.objects.filter(
        token_hash=token_hash(token), expires_at__gt=timezone.now()
    ).first()
    if invite is None:
        raise InviteInvalid()
    return _ordered({Role(value) for value in invite.roles})

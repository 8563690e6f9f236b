"""Staff accounts, invitations and roles: who may open the staff pages, and as what.

Only an administrator grants or removes roles, invites and deactivates staff (GDPR Art
32(4), policy §4: access only for authorised people who need it); the command line
(`manage.py staff_create`, `staff_grant`) acts as the system, for the first
administrator and for recovery. Every change is audited in the same transaction
(backoffice.events, codes 900-919) and the person concerned is emailed, in plain words
naming the role, through the comms outbox (sent on commit).

Roles are Django groups (`web.roles.ROLE_GROUPS`). The last active administrator can
neither lose the role nor be deactivated, so the staff side can always be managed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from qualipact.accounts.models import User, username_validator
from qualipact.accounts.services import (
    account_by_email,
    account_create,
    email_normalise,
    sessions_end_all,
)
from qualipact.backoffice import events
from qualipact.backoffice.models import StaffInvite
from qualipact.comms.services import email_queue
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.services import subject_for_email
from qualipact.privacy.tokens import token_hash
from qualipact.web.links import site_url
from qualipact.web.roles import ROLE_GROUPS, Role, has_role, roles_of

# How long an emailed invitation link works.
INVITE_VALID_FOR = timedelta(days=7)
EMAIL_PURPOSE = events.STAFF_PURPOSE


class InviteInvalid(ApplicationError):
    """An invitation link that is unknown, already used, cancelled or expired."""

    def __init__(self) -> None:
        super().__init__(
            "This invitation link is not valid: it may have expired, been used already or "
            "been cancelled. Ask an administrator to invite you again.",
            {"token": "invalid"},
        )


# -- helpers ------------------------------------------------------------------------------


def _actor(by: User | None, command: str) -> Actor:
    return Actor.staff(by.pk) if by is not None else Actor.system(command)


def _require_administrator(by: User | None) -> None:
    """`by` None is the command line (the system); a person must be an administrator."""
    if by is not None and not has_role(by, Role.ADMINISTRATOR):
        raise ApplicationError(
            "Only an administrator can manage staff and roles", {"actor": "not_administrator"}
        )


def _require_staff(user: User) -> None:
    if not (user.is_staff and user.is_active):
        raise ApplicationError(
            "This account is not a staff account: invite the person to join the staff",
            {"user": "not_staff"},
        )


def _roles(values: Iterable[Role | str]) -> list[Role]:
    try:
        roles = {Role(value) for value in values}
    except ValueError:
        raise ApplicationError("Unknown staff role", {"roles": "invalid"}) from None
    return sorted(roles, key=list(Role).index)


def _group(role: Role, *, lock: bool = False) -> Group:
    groups = Group.objects.select_for_update() if lock else Group.objects
    group, _ = groups.get_or_create(name=ROLE_GROUPS[role])
    return group


def _labels(roles: Iterable[Role]) -> str:
    return ", ".join(role.label for role in roles)


def _forget_roles(user: User) -> None:
    # roles_of caches on the user object for a request; a change must not read stale.
    user.__dict__.pop("_staff_roles", None)


def _other_administrators(user: User) -> int:
    """Active staff administrators other than `user`. The administrator group's row is
    locked first, so two removals at once cannot each leave the other as the last one."""
    group = _group(Role.ADMINISTRATOR, lock=True)
    return (
        User.objects.filter(is_active=True, is_staff=True, groups=group).exclude(pk=user.pk).count()
    )


def _refuse_last_administrator(user: User) -> None:
    if Role.ADMINISTRATOR in roles_of(user) and _other_administrators(user) == 0:
        raise ApplicationError(
            "This is the last administrator: make someone else an administrator first",
            {"roles": "last_administrator"},
        )


def _tell(user: User, *, subject_line: str, body: str) -> None:
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line=subject_line,
        body=body,
        purpose="security",
    )


_SIGN_OFF = (
    "\n\nIf you did not expect this, tell your administrator or our Data Protection "
    "Officer at once.\n\nQualipact"
)


def _tell_roles_changed(
    user: User, *, added: list[Role], removed: list[Role], by_command: bool
) -> None:
    who = "From the command line, an administrator" if by_command else "An administrator"
    lines = [f"Hello {user.username},", ""]
    if added:
        lines.append(
            f"{who} gave you the staff role{'s' if len(added) > 1 else ''}: {_labels(added)}."
        )
    if removed:
        lines.append(
            f"{who if not added else 'They'} took away the staff role"
            f"{'s' if len(removed) > 1 else ''}: {_labels(removed)}."
        )
    remaining = sorted(roles_of(user), key=list(Role).index)
    lines += [
        "",
        f"Your staff roles now: {_labels(remaining)}."
        if remaining
        else "You hold no staff role now.",
        f"The staff console shows the pages your roles open: {site_url('backoffice:console')}",
    ]
    _tell(user, subject_line="Your staff roles changed", body="\n".join(lines) + _SIGN_OFF)


def _grant(user: User, role: Role, actor: Actor) -> bool:
    """Add the role's group; False when the person already held it (nothing written)."""
    if role in roles_of(user):
        return False
    user.groups.add(_group(role))
    _forget_roles(user)
    events.staff_role_granted_event(subject_id=user.subject_id, actor=actor, role=role.value)
    return True


def _remove(user: User, role: Role, actor: Actor) -> bool:
    if role not in roles_of(user):
        return False
    if role is Role.ADMINISTRATOR:
        _refuse_last_administrator(user)
    user.groups.remove(_group(role))
    _forget_roles(user)
    events.staff_role_removed_event(subject_id=user.subject_id, actor=actor, role=role.value)
    return True


def _password_check(password: str, username: str) -> None:
    try:
        password_validation.validate_password(password, User(username=username))
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), {"password": "weak"}) from None


# -- roles --------------------------------------------------------------------------------


@transaction.atomic
def staff_role_grant(*, user: User, role: Role, by: User | None) -> bool:
    """Give the staff member `user` the `role`; `by` is the administrator (None: the
    command line, audited as the system). Audited (901) and emailed to `user`.

    Returns False when they already held it (nothing written, no email). Raises
    `ApplicationError` when `by` is not an administrator or `user` is not staff.
    """
    _require_administrator(by)
    _require_staff(user)
    role = Role(role)
    if not _grant(user, role, _actor(by, "staff_grant")):
        return False
    _tell_roles_changed(user, added=[role], removed=[], by_command=by is None)
    return True


@transaction.atomic
def staff_role_remove(*, user: User, role: Role, by: User | None) -> bool:
    """Take `role` away from the staff member `user`. Audited (902) and emailed.

    Returns False when they did not hold it. Raises `ApplicationError` when `by` is not
    an administrator, `user` is not staff, or `user` is the last administrator.
    """
    _require_administrator(by)
    _require_staff(user)
    role = Role(role)
    if not _remove(user, role, _actor(by, "staff_grant")):
        return False
    _tell_roles_changed(user, added=[], removed=[role], by_command=by is None)
    return True


@transaction.atomic
def staff_roles_set(
    *, user: User, roles: Iterable[Role | str], by: User
) -> tuple[list[Role], list[Role]]:
    """Make `user`'s roles exactly `roles` (the administrator's checkboxes): one audit
    event per role added or removed, one email listing both. Returns (added, removed).

    All or nothing: refused (`ApplicationError`, nothing changed) when `by` is not an
    administrator, `user` is not staff, or it would remove the last administrator.
    """
    _require_administrator(by)
    _require_staff(user)
    wanted = set(_roles(roles))
    held = roles_of(user)
    actor = _actor(by, "")
    removed = [role for role in Role if role in held and role not in wanted]
    added = [role for role in Role if role in wanted and role not in held]
    for role in removed:
        _remove(user, role, actor)
    for role in added:
        _grant(user, role, actor)
    if added or removed:
        _tell_roles_changed(user, added=added, removed=removed, by_command=False)
    return added, removed


# -- accounts -----------------------------------------------------------------------------


@transaction.atomic
def _username_check(username: str) -> None:
    """The username rule of every sign-up (accounts.models.username_validator)."""
    try:
        username_validator(username)
    except ValidationError as error:
        raise ApplicationError(error.messages[0], {"username": "invalid"}) from None


def staff_account_create(
    *, username: str, email: str, password: str, roles: Iterable[Role | str]
) -> User:
    """A staff account from the command line (`manage.py staff_create`): verified
    address, `is_staff`, holding `roles` (at least one). Audited as the system (900,
    then 901 per role); no email (the person runs the command).

    Raises `ApplicationError` (nothing stored) for a weak password, no role, a username
    or address that is not valid (the rules of the invitation form), or one already taken.
    """
    wanted = _roles(roles)
    if not wanted:
        raise ApplicationError("Give the account at least one role", {"roles": "empty"})
    _username_check(username)
    email = email_normalise(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError("Enter a valid email address", {"email": "invalid"}) from None
    _password_check(password, username)
    actor = Actor.system("staff_create")
    user = account_create(
        username=username,
        email=email,
        password=password,
        email_verified=True,
        is_staff=True,
        actor=actor,
    )
    events.staff_account_created_event(subject_id=user.subject_id, actor=actor)
    for role in wanted:
        _grant(user, role, actor)
    return user


@transaction.atomic
def staff_deactivate(*, user: User, by: User) -> list[Role]:
    """End `user`'s staff access: every role removed, no longer staff, every session
    ended. Their account stays an ordinary account. Audited (906) and emailed.

    Returns the roles they held. Raises `ApplicationError` when `by` is not an
    administrator, `user` is not staff, `user` is `by`, or `user` is the last
    administrator.
    """
    _require_administrator(by)
    _require_staff(user)
    if user.pk == by.pk:
        raise ApplicationError(
            "You cannot end your own access: ask another administrator", {"user": "self"}
        )
    _refuse_last_administrator(user)
    held = sorted(roles_of(user), key=list(Role).index)
    user.groups.remove(*[_group(role) for role in held])
    user.is_staff = False
    user.save(update_fields=["is_staff", "updated_at"])
    _forget_roles(user)
    ended = sessions_end_all(subject=user.subject, reason="staff_deactivated")
    events.staff_deactivated_event(
        subject_id=user.subject_id,
        actor=Actor.staff(by.pk),
        roles=[role.value for role in held],
        sessions=ended,
    )
    _tell(
        user,
        subject_line="Your staff access has ended",
        body=(
            f"Hello {user.username},\n\nAn administrator ended your staff access to Qualipact"
            + (
                f": {'the roles' if len(held) > 1 else 'the role'} {_labels(held)} "
                f"{'were' if len(held) > 1 else 'was'} removed"
                if held
                else ""
            )
            + ", and you were signed out everywhere. Your account itself stays open; the "
            "staff pages no longer open for it." + _SIGN_OFF
        ),
    )
    return held


@transaction.atomic
def staff_restore(*, user: User) -> bool:
    """Make an existing, active account staff again, from the command line only
    (`manage.py staff_grant --restore`: after `staff_deactivate`, the way back). It holds
    no role until one is granted. Audited as the system (907) and emailed.

    Returns False when the account is staff already. Raises `ApplicationError` for an
    account that is not active (closed accounts stay closed).
    """
    if not user.is_active:
        raise ApplicationError("This account is closed", {"user": "inactive"})
    if user.is_staff:
        return False
    user.is_staff = True
    user.save(update_fields=["is_staff", "updated_at"])
    _forget_roles(user)
    events.staff_restored_event(subject_id=user.subject_id, actor=Actor.system("staff_grant"))
    _tell(
        user,
        subject_line="You are staff again",
        body=(
            f"Hello {user.username},\n\nFrom the command line, an administrator made your "
            "account a staff account again. Staff pages need an authenticator app or a "
            f"passkey: {site_url('backoffice:console')}" + _SIGN_OFF
        ),
    )
    return True


# -- invitations --------------------------------------------------------------------------


@transaction.atomic
def staff_invite(*, email: str, roles: Iterable[Role | str], by: User) -> StaffInvite:
    """Invite `email` to join the staff with `roles`: an emailed, single-use link valid
    for `INVITE_VALID_FOR`; only the token's hash is stored. A pending invitation to the
    same address is replaced (cancelled). Audited (903) on the invitee's subject.

    Raises `ApplicationError` (nothing stored) when `by` is not an administrator, the
    address is not valid, no role is chosen, or the address already has an account.
    """
    _require_administrator(by)
    wanted = _roles(roles)
    if not wanted:
        raise ApplicationError("Choose at least one role", {"roles": "empty"})
    email = email_normalise(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError("Enter a valid email address", {"email": "invalid"}) from None
    existing = account_by_email(email)
    if existing is not None:
        raise ApplicationError(
            "This address already has an account"
            + (": change its roles on its page instead" if existing.is_staff else "")
            + ". Invite another address, such as the person's work address.",
            {"email": "has_account"},
        )
    actor = Actor.staff(by.pk)
    index = vault.blind_index("email", email)
    for earlier in StaffInvite.objects.select_for_update().filter(email_index=index):
        events.staff_invite_cancelled_event(
            subject_id=earlier.subject_id, actor=actor, invite_id=earlier.pk
        )
        earlier.delete()
    subject = subject_for_email(email=email, actor=actor)
    token = secrets.token_urlsafe(32)
    invite = StaffInvite.objects.create(
        subject=subject,
        email=email,
        roles=[role.value for role in wanted],
        token_hash=token_hash(token),
        invited_by=by,
        expires_at=timezone.now() + INVITE_VALID_FOR,
    )
    events.staff_invited_event(
        subject_id=subject.pk, actor=actor, invite_id=invite.pk, roles=list(invite.roles)
    )
    days = INVITE_VALID_FOR.days
    email_queue(
        subject=subject,
        to=email,
        subject_line="You are invited to join Qualipact's staff",
        body=(
            "Hello,\n\nAn administrator of Qualipact invited you to join the staff as: "
            f"{_labels(wanted)}.\n\nOpen this link within {days} days to choose a username "
            f"and a password:\n{site_url('backoffice:invite_accept', token=token)}\n\n"
            "Then you set up an authenticator app (staff pages need a second factor), and "
            "the staff console shows the pages your roles open. The link works once." + _SIGN_OFF
        ),
        purpose="security",
    )
    return invite


def _invite_locked(token: str) -> StaffInvite:
    invite = StaffInvite.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    if invite is None or invite.expires_at <= timezone.now():
        raise InviteInvalid()
    return invite


@transaction.atomic
def staff_invite_accept(*, token: str, username: str, password: str) -> User:
    """The invitee's answer to the emailed link: a staff account with the username and
    password they chose, their address counted as verified (the link proved it), and
    the invitation's roles (granted as by the administrator who invited). The
    invitation is deleted. Audited (904, then 901 per role) and emailed.

    Raises `InviteInvalid` for an unknown, used, cancelled or expired link, and
    `ApplicationError` (the invitation kept) for a weak password or a taken username or
    address.
    """
    invite = _invite_locked(token)
    _username_check(username)
    _password_check(password, username)
    user = account_create(
        username=username,
        email=invite.email,
        password=password,
        email_verified=True,
        is_staff=True,
        actor=Actor.subject(invite.subject_id),
    )
    granted_by = _actor(invite.invited_by, "staff_invite")
    roles = _roles(invite.roles)
    for role in roles:
        _grant(user, role, granted_by)
    events.staff_invite_accepted_event(
        subject_id=user.subject_id,
        actor=Actor.subject(user.subject_id),
        invite_id=invite.pk,
        roles=[role.value for role in roles],
    )
    invite.delete()
    _tell(
        user,
        subject_line="Your staff account is ready",
        body=(
            f"Hello {user.username},\n\nYour staff account on Qualipact is ready, with the "
            f"roles: {_labels(roles)}. Staff pages open once you have set up an "
            "authenticator app or a passkey:\n"
            f"{site_url('mfa_index')}\n\nThe staff console: {site_url('backoffice:console')}"
            + _SIGN_OFF
        ),
    )
    return user


@transaction.atomic
def staff_invite_cancel(*, invite_id: uuid.UUID, by: User) -> None:
    """Cancel a pending invitation: its link stops working and its row (the address) is
    deleted. Audited (905). Raises `ApplicationError` when `by` is not an administrator
    or the invitation is gone (accepted, cancelled or expired and deleted)."""
    _require_administrator(by)
    invite = StaffInvite.objects.select_for_update().filter(pk=invite_id).first()
    if invite is None:
        raise ApplicationError(
            "This invitation is no longer pending: it was accepted, cancelled or has expired",
            {"invite": "gone"},
        )
    events.staff_invite_cancelled_event(
        subject_id=invite.subject_id, actor=Actor.staff(by.pk), invite_id=invite.pk
    )
    invite.delete()

"""Writes on accounts: sign-up, verification, password and email changes, preferences, deletion.

Every function writes its audit event in the same transaction and sends email through
the comms outbox (on commit). Addresses live only encrypted on User; tokens in links
are signed and short-lived, and carry ids and blind indexes, never an address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from qualipact.accounts import events
from qualipact.accounts.models import Preferences, User
from qualipact.accounts.services.children import (
    children_of,
    parental_consent_request,
    parental_consent_withdraw,
)
from qualipact.accounts.services.sessions import sessions_end_all
from qualipact.comms.services import email_queue
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.deferred import deferred_handler_register, deferred_submit
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject, SubjectIdentifier
from qualipact.privacy.services import subject_erase, subject_for_email
from qualipact.web.links import site_url

VERIFY_SALT = "qualipact.accounts.verify-email"
RESET_SALT = "qualipact.accounts.password-reset"
CHANGE_SALT = "qualipact.accounts.change-email"
VERIFY_MAX_AGE = 3 * 86400
RESET_MAX_AGE = 3600
CHANGE_MAX_AGE = 86400
# Kinds of work the forms that take an address hand to the background (privacy.deferred).
DEFERRED_SIGN_UP = "accounts.sign_up"
DEFERRED_VERIFICATION_RESEND = "accounts.verification_resend"
DEFERRED_PASSWORD_RESET = "accounts.password_reset"  # noqa: S105 - a kind, not a secret
DEFERRED_EMAIL_CHANGE = "accounts.email_change"


class InvalidToken(ApplicationError):
    """A link that is malformed, tampered with, expired or already used."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"This {what} link is not valid: it may have expired or been used already.",
            {"token": "invalid"},
        )


def email_normalise(email: str) -> str:
    """An address as accounts store it: the domain in lower case, the local part as typed
    (RFC 5321 §2.4: only the domain is case-insensitive), surrounding spaces removed."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def account_by_email(email: str) -> User | None:
    index = vault.blind_index("email", email_normalise(email))
    return User.objects.filter(email_index=index).first()


@transaction.atomic
def account_create(
    *,
    username: str,
    email: str,
    password: str | None,
    password_hash: str | None = None,
    email_verified: bool = False,
    is_staff: bool = False,
    is_superuser: bool = False,
    child_until: date | None = None,
    status: str = User.Status.ACTIVE,
    actor: Actor | None = None,
) -> User:
    """Create the account and its data subject (the one already known by this address).

    `password_hash` (from `make_password`) is used as is when given, instead of `password`.
    """
    email = email_normalise(email)
    subject = subject_for_email(email=email, actor=actor or Actor.system("sign-up"))
    if User.objects.filter(subject=subject).exists():
        raise ApplicationError("An account already exists for this address", {"email": "taken"})
    user = User(
        subject=subject,
        username=username,
        email=email,
        email_verified_at=timezone.now() if email_verified else None,
        is_staff=is_staff,
        is_superuser=is_superuser,
        child_until=child_until,
        status=status,
    )
    if password_hash is not None:
        user.password = password_hash
    elif password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ApplicationError(
            "This username or address is already taken", {"username": "taken"}
        ) from None
    if child_until is None:
        # A child's account holds only its email and username (policy section 9).
        Preferences.objects.create(subject=subject)
    events.account_created_event(
        subject_id=subject.pk,
        actor=actor or Actor.subject(subject.pk),
        child=child_until is not None,
        staff=is_staff,
    )
    return user


@dataclass
class SignUpResult:
    # None when the address already had an account: the page says the same either way.
    user: User | None
    child: bool


@transaction.atomic
def account_sign_up(
    *,
    username: str,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    child_until: date | None,
    parent_email: str = "",
) -> SignUpResult:
    """The sign-up's work, after the age gate: an adult, or a child held pending.

    The age gate (accounts.age) turns the date of birth and country into `child_until`,
    the day a child reaches the threshold; neither answer is stored. An address that
    already has an account gets an email instead, and nothing else happens. The sign-up
    form runs this in the background (`account_sign_up_later`), so that its answer
    never tells whether the address is known.
    """
    if child_until is not None and not parent_email.strip():
        raise ApplicationError(
            "Below the age of digital consent a parent must agree: give a parent's email",
            {"parent_email": "required"},
        )
    existing = account_by_email(email)
    if existing is not None:
        # Never reveal that an address has an account: tell its owner by email instead.
        _account_exists_notice(existing)
        return SignUpResult(user=None, child=child_until is not None)
    if child_until is None:
        user = account_create(
            username=username, email=email, password=password, password_hash=password_hash
        )
        _verification_send(user)
        return SignUpResult(user=user, child=False)
    user = account_create(
        username=username,
        email=email,
        password=password,
        password_hash=password_hash,
        child_until=child_until,
        status=User.Status.AWAITING_PARENT,
    )
    _verification_send(user)
    parental_consent_request(child=user, parent_email=parent_email)
    return SignUpResult(user=user, child=True)


def account_sign_up_later(
    *,
    username: str,
    email: str,
    password: str,
    child_until: date | None,
    parent_email: str = "",
) -> None:
    """The sign-up form's service: the same work and the same answer for every address.

    The password is hashed here, where both sides pay for it; whether the address is
    known, and everything that follows from it (an account and a confirmation link, or a
    notice to the owner), is decided in the background (privacy.deferred). Only the hash
    is kept, sealed, until then. Raises ApplicationError when a child gives no parent.
    """
    if child_until is not None and not parent_email.strip():
        raise ApplicationError(
            "Below the age of digital consent a parent must agree: give a parent's email",
            {"parent_email": "required"},
        )
    deferred_submit(
        kind=DEFERRED_SIGN_UP,
        payload={
            "username": username,
            "email": email,
            "password_hash": make_password(password),
            "child_until": child_until.isoformat() if child_until else None,
            "parent_email": parent_email,
        },
    )


def _sign_up_deferred(payload: dict[str, Any]) -> None:
    email = payload["email"]
    until = payload["child_until"]
    try:
        account_sign_up(
            username=payload["username"],
            email=email,
            password_hash=payload["password_hash"],
            child_until=date.fromisoformat(until) if until else None,
            parent_email=payload["parent_email"],
        )
    except ApplicationError:
        # The username was taken in the seconds since the form checked it.
        _sign_up_failed_notice(email)


def _sign_up_failed_notice(email: str) -> None:
    subject = subject_for_email(email=email, actor=Actor.system("sign-up"))
    email_queue(
        subject=subject,
        to=email_normalise(email),
        subject_line="Your Qualipact sign-up could not be finished",
        body=(
            "Someone, perhaps you, tried to create a Qualipact account with this address, "
            "but the username chosen was taken by someone else a moment earlier. Nothing "
            "was created. To try again with another username:\n"
            f"{site_url('accounts:signup')}\n"
            "If it was not you, you can ignore this message."
        ),
        purpose="service_delivery",
    )


def _account_exists_notice(user: User) -> None:
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line="Someone tried to create an account with your address",
        body=(
            "Someone, perhaps you, tried to create a Qualipact account with this address.\n"
            "It already has an account. If that was you, sign in or reset your password at\n"
            f"{site_url('accounts:password_reset')}\n"
            "If it was not you, you can ignore this message."
        ),
        purpose="security",
    )


def _verification_send(user: User) -> None:
    token = signing.dumps({"u": user.pk.hex, "i": user.email_index}, salt=VERIFY_SALT)
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line="Confirm your email address",
        body=(
            f"Hello {user.username},\n\nfollow this link to confirm your address "
            f"(valid for 3 days):\n{site_url('accounts:verify_email', token=token)}\n"
        ),
        purpose="service_delivery",
    )


def _load(token: str, *, salt: str, max_age: int, what: str) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        raise InvalidToken(what) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), str):
        raise InvalidToken(what)
    return payload


@transaction.atomic
def account_email_verify(*, token: str) -> User:
    payload = _load(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE, what="confirmation")
    user = User.objects.select_for_update().filter(pk=payload["u"]).first()
    if user is None or user.email_index != payload.get("i"):
        raise InvalidToken("confirmation")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
        events.account_email_verified_event(user=user)
    return user


@transaction.atomic
def account_verification_resend(*, email: str) -> None:
    """Send the confirmation link again, to an account whose address is not confirmed."""
    user = account_by_email(email)
    if user is not None and user.email_verified_at is None:
        _verification_send(user)


def account_verification_resend_later(*, email: str) -> None:
    """The form's service: the same answer and time for every address (privacy.deferred)."""
    deferred_submit(kind=DEFERRED_VERIFICATION_RESEND, payload={"email": email})


def password_reset_request_later(*, email: str) -> None:
    """The form's service: the same answer and time for every address (privacy.deferred)."""
    deferred_submit(kind=DEFERRED_PASSWORD_RESET, payload={"email": email})


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Email a one-hour, single-use reset link; silent when the address is unknown."""
    user = account_by_email(email)
    if user is None or not user.is_active:
        return
    token = signing.dumps(
        {"u": user.pk.hex, "t": default_token_generator.make_token(user)}, salt=RESET_SALT
    )
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line="Reset your password",
        body=(
            "Someone asked to reset the password of your Qualipact account. If it was you, "
            "follow this link within an hour:\n"
            f"{site_url('accounts:password_reset_set', token=token)}\n"
            "If not, ignore this message: nothing changes."
        ),
        purpose="service_delivery",
    )


def password_reset_user(*, token: str) -> User:
    """The account a reset link is for, checking that the link is still unused."""
    payload = _load(token, salt=RESET_SALT, max_age=RESET_MAX_AGE, what="password reset")
    user = User.objects.filter(pk=payload["u"]).first()
    if user is None or not default_token_generator.check_token(user, str(payload.get("t"))):
        raise InvalidToken("password reset")
    return user


@transaction.atomic
def password_reset_complete(*, token: str, password: str) -> User:
    """Set the new password; the link works once (checked again under the row lock, so two
    concurrent uses cannot both pass: the first changes the hash the link is bound to)."""
    user = password_reset_user(token=token)
    User.objects.select_for_update().get(pk=user.pk)
    user = password_reset_user(token=token)
    _password_set(user, password, audit_event=events.account_password_reset_event)
    if user.email_verified_at is None:
        # Following the emailed link proves the address as well.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
    return user


@transaction.atomic
def account_password_change(*, user: User, password: str) -> User:
    """Set a new password and end every session of the account, this one included."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _password_set(user, password, audit_event=events.account_password_changed_event)
    return user


def _password_set(user: User, password: str, *, audit_event: Callable[..., AuditEvent]) -> None:
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    sessions_end_all(subject=user.subject, reason="password_changed")
    audit_event(user=user)
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line="Your password was changed",
        body=(
            "The password of your Qualipact account was just changed and every signed-in "
            "device was signed out. If this was not you, reset your password now:\n"
            f"{site_url('accounts:password_reset')}\n"
        ),
        purpose="security",
    )


@transaction.atomic
def account_email_change_request(*, user: User, new_email: str) -> None:
    """Send a confirmation link to the new address; the old one stays until it is followed.

    An address that already has an account gets an explanation instead of a link, and
    nothing changes; the account asking is told exactly what it is told otherwise (the
    notice to its current address), so the answer never tells whether an address is known.
    """
    new_email = email_normalise(new_email)
    user = User.objects.select_for_update().get(pk=user.pk)
    holder = account_by_email(new_email)
    events.account_email_change_requested_event(user=user)
    if holder is None:
        user.pending_email = new_email
        user.save(update_fields=["pending_email", "updated_at"])
        token = signing.dumps(
            {"u": user.pk.hex, "i": vault.blind_index("email", new_email)}, salt=CHANGE_SALT
        )
        email_queue(
            subject=user.subject,
            to=new_email,
            subject_line="Confirm your new email address",
            body=(
                "Follow this link within a day to use this address for your Qualipact "
                f"account:\n{site_url('accounts:email_change_confirm', token=token)}\n"
            ),
            purpose="service_delivery",
        )
    else:
        email_queue(
            subject=holder.subject,
            to=new_email,
            subject_line="Your address was given for another Qualipact account",
            body=(
                "Someone signed in to a Qualipact account asked to use this address for it. "
                "This address already belongs to an account, so nothing changed and no link "
                "was sent. If it was you, sign in with this address instead. If not, you can "
                "ignore this message."
            ),
            purpose="service_delivery",
        )
    email_queue(
        subject=user.subject,
        to=user.email,
        subject_line="A change of your email address was requested",
        body=(
            "Someone signed in to your account asked to change its email address. The change "
            "happens only when the new address is confirmed. If this was not you, change your "
            "password now."
        ),
        purpose="security",
    )


def account_email_change_request_later(*, user: User, new_email: str) -> None:
    """The form's service: the same answer and time for every address (privacy.deferred)."""
    deferred_submit(kind=DEFERRED_EMAIL_CHANGE, payload={"user": user.pk.hex, "email": new_email})


def _email_change_deferred(payload: dict[str, Any]) -> None:
    user = User.objects.filter(pk=payload["user"]).first()
    if user is not None:  # deleted meanwhile: nothing to change
        account_email_change_request(user=user, new_email=payload["email"])


def deferred_handlers_register() -> None:
    """The background halves of the forms that take an address (AccountsConfig.ready)."""
    deferred_handler_register(DEFERRED_SIGN_UP, _sign_up_deferred)
    deferred_handler_register(
        DEFERRED_VERIFICATION_RESEND,
        lambda payload: account_verification_resend(email=payload["email"]),
    )
    deferred_handler_register(
        DEFERRED_PASSWORD_RESET, lambda payload: password_reset_request(email=payload["email"])
    )
    deferred_handler_register(DEFERRED_EMAIL_CHANGE, _email_change_deferred)


@transaction.atomic
def account_email_change_confirm(*, token: str) -> User:
    payload = _load(token, salt=CHANGE_SALT, max_age=CHANGE_MAX_AGE, what="email change")
    user = User.objects.select_for_update().filter(pk=payload["u"]).first()
    if user is None or not user.pending_email:
        raise InvalidToken("email change")
    new_email = user.pending_email
    if vault.blind_index("email", new_email) != payload.get("i"):
        raise InvalidToken("email change")
    user.email = new_email
    user.pending_email = None
    user.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(
                update_fields=[
                    "email",
                    "email_index",
                    "pending_email",
                    "email_verified_at",
                    "updated_at",
                ]
            )
    except IntegrityError:
        raise ApplicationError("This address cannot be used", {"email": "taken"}) from None
    SubjectIdentifier.objects.get_or_create(
        kind=SubjectIdentifier.Kind.EMAIL,
        value_index=user.email_index,
        defaults={"subject": user.subject},
    )
    events.account_email_changed_event(user=user)
    return user


@transaction.atomic
def preferences_update(*, user: User, channel_email: bool) -> Preferences:
    """Save the account's choices. `channel_email` off: no optional notices by email (the
    `account_email_choice` enforcement rule); required messages still go."""
    preferences, _ = Preferences.objects.select_for_update().get_or_create(subject=user.subject)
    changed = ["channel_email"] if preferences.channel_email != channel_email else []
    preferences.channel_email = channel_email
    preferences.save()
    events.account_preferences_changed_event(user=user, fields=changed)
    return preferences


def account_delete(*, user: User, actor: Actor) -> None:
    """Delete the account and everything the registry holds for the person, then shred the key.

    Every session ends first; the erasure is the spine's, so it is idempotent, audited and
    keeps what a legal hold covers (the key is then kept too). An account row a hold keeps
    can no longer be used: it is deactivated. The accounts of children this person
    consented for as a parent are deleted too (their own holds apply to them).
    """
    # A child's account rests on this parent's consent: without the parent, nobody can
    # consent or manage it any more, so it goes too (COPPA 312.6, GDPR Art 8).
    for child in children_of(user):
        parental_consent_withdraw(parent=user, child=child)
    subject = DataSubject.objects.get(pk=user.subject_id)
    with transaction.atomic():
        sessions_end_all(subject=subject, reason="account_deleted")
        events.account_deleted_event(subject_id=subject.pk, actor=actor)
        receipt = subject_erase(subject=subject, actor=actor)
        if not receipt.complete:
            User.objects.filter(subject=subject).update(is_active=False, updated_at=timezone.now())

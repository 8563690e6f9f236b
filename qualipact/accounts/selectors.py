"""Reads of accounts: those other apps reach through hooks in the privacy core, and the
session-lifetime policy."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta

from django.conf import settings

from qualipact.accounts.models import AccountSession, ParentalConsent, User
from qualipact.privacy import vault
from qualipact.privacy.errors import VaultError
from qualipact.privacy.models import DataSubject


def verified_account_addresses(subject_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The account address of each of these people whose address is verified and whose
    account is in use (registered with `privacy.addresses`)."""
    users = User.objects.filter(
        subject_id__in=list(subject_ids),
        email_verified_at__isnull=False,
        is_active=True,
        status=User.Status.ACTIVE,
    )
    found = {}
    for user in users:
        try:
            found[user.subject_id] = user.email
        except VaultError:  # the key is shredded: nobody to write to
            continue
    return found


def account_addresses(subject: DataSubject) -> Iterator[str]:
    """Blind indexes of the addresses an account holds for this person (a recipient source,
    see qualipact.privacy.recipients): the account's address, a new address waiting for its
    confirmation link, and for a child the parent's address given at sign-up."""
    for user in User.objects.filter(subject=subject).only(
        "email_index", "pending_email", "subject"
    ):
        yield user.email_index
        try:
            pending = user.pending_email
        except VaultError:  # the key is shredded: nothing to send to
            pending = None
        if pending:
            yield vault.blind_index("email", pending)
    for consent in ParentalConsent.objects.filter(subject=subject).only("parent_email", "subject"):
        try:
            yield vault.blind_index("email", consent.parent_email)
        except VaultError:
            continue


def session_end_reason(*, record: AccountSession | None, now: datetime) -> str | None:
    """Why a signed-in session may no longer be used at `now`, or None while it may.

    "ended": no record, or ended elsewhere (signed out on another device, password
    changed); "idle_timeout": no request for SESSION_IDLE_SECONDS (seconds) since
    `last_seen_at`; "absolute_timeout": signed in more than SESSION_ABSOLUTE_SECONDS ago
    (OWASP Session Management: both limits, whatever the activity).
    """
    if record is None or record.ended_at is not None:
        return "ended"
    if now - record.last_seen_at > timedelta(seconds=settings.SESSION_IDLE_SECONDS):
        return "idle_timeout"
    if now - record.signed_in_at > timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS):
        return "absolute_timeout"
    return None


def account_of_subject(subject_id: uuid.UUID) -> User | None:
    """The account of a data subject (one at most: User.subject is unique), or None."""
    return User.objects.filter(subject_id=subject_id).first()


def account_subject_id(account_id: uuid.UUID) -> uuid.UUID | None:
    """The data subject id of an account, or None when there is no such account."""
    return User.objects.filter(pk=account_id).values_list("subject_id", flat=True).first()

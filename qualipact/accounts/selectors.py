"""Reads of accounts that other apps reach through hooks in the privacy core."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator

from qualipact.accounts.models import ParentalConsent, User
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

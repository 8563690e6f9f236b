"""Reads of accounts that other apps reach through hooks in the privacy core."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from qualipact.accounts.models import User
from qualipact.privacy.errors import VaultError


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

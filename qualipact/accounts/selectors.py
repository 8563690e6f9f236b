"""Reads on accounts that other parts of the system rely on."""

from __future__ import annotations

from collections.abc import Iterator

from qualipact.accounts.models import ParentalConsent, User
from qualipact.privacy import vault
from qualipact.privacy.errors import VaultError
from qualipact.privacy.models import DataSubject


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

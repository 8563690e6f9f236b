"""Where a person may be written to: the addresses that proved to be theirs.

The core stores no address (a `SubjectIdentifier` holds only a blind index). Apps that
hold an address the person proved register a provider at start-up: accounts (a verified
account address), comms (an address confirmed by the newsletter's double opt-in). A
feature that must write to people it selected by purpose, such as a newsletter send,
asks here, so it never writes to an address nobody proved.

Providers are asked in the order they were registered until every subject has one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping

# subject ids -> {subject id: proven address}, for those of them the provider knows.
AddressProvider = Callable[[Collection[uuid.UUID]], Mapping[uuid.UUID, str]]

_providers: dict[str, AddressProvider] = {}
# Subjects per provider call: a database's limit on bound parameters stays far away.
CHUNK = 500


def proven_address_provider_register(name: str, provider: AddressProvider) -> None:
    """Add a provider, or replace the one of that name."""
    _providers[name] = provider


def proven_addresses(
    subject_ids: Collection[uuid.UUID], *, prefer: Collection[str] = ()
) -> dict[uuid.UUID, str]:
    """The proven address of each subject that has one; subjects without one are left out.

    `prefer` names providers to ask first (a newsletter prefers the address confirmed for
    it over the account's).
    """
    order = [name for name in prefer if name in _providers]
    order += [name for name in _providers if name not in order]
    found: dict[uuid.UUID, str] = {}
    missing = set(subject_ids)
    for name in order:
        pending = sorted(missing, key=str)
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            for subject_id, address in _providers[name](chunk).items():
                if subject_id in missing and address:
                    found[subject_id] = address
                    missing.discard(subject_id)
    return found

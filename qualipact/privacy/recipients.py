"""Which email addresses belong to a data subject: the only ones a message about them may go to.

An address belongs to a person when it is how we know them (a `SubjectIdentifier`: the
address of their account, of their contact message or newsletter sign-up, each proven or
answered at that address), or when an app that holds a further address for them says so
(`recipient_source_register`): the accounts app names the address of the account, a new
address waiting for its confirmation link, and, for a child, the parent's address the
consent request goes to. Nothing a person types into a form or an API can add one.

The outbox (`comms.services.email_queue`) refuses every other recipient, so no field of
any form or API can redirect a person's mail (GDPR Art 5(1)(f), Art 32).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qualipact.privacy import vault
from qualipact.privacy.models import DataSubject, SubjectIdentifier

# A source names the blind indexes ("email" scope) of further addresses of a subject.
RecipientSource = Callable[[DataSubject], Iterable[str]]
_sources: dict[str, RecipientSource] = {}


def recipient_source_register(name: str, source: RecipientSource) -> None:
    """Register (or replace) a source of a subject's addresses, by name."""
    _sources[name] = source


def address_belongs_to(subject: DataSubject, address: str) -> bool:
    """Whether `address` is one of the subject's own addresses (see the module's docstring)."""
    index = vault.blind_index("email", address)
    known = SubjectIdentifier.objects.filter(
        subject=subject, kind=SubjectIdentifier.Kind.EMAIL, value_index=index
    ).exists()
    return known or any(index in set(source(subject)) for source in _sources.values())

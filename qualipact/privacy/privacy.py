"""Personal data held by the privacy core itself."""

from datetime import timedelta

from qualipact.privacy.models import DeferredWork, SubjectIdentifier
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

personal_data(
    SubjectIdentifier,
    label="email lookup",
    label_plural="email lookups",
    purposes=["service_delivery", "data_subject_rights"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.DERIVED,
    # Identifiers are made for accounts (how we find the person by their address) and
    # live as long as the account: three years after its last sign-in.
    retention=Retention(
        after="subject__account__last_login",
        or_after="subject__account__created_at",
        period=timedelta(days=3 * 365),
        event="your last sign-in",
    ),
    portable=False,
    # The blind index of a child's own address: what finds their account.
    for_children=True,
    fields={
        # The blind index of an address (a keyed hash): a secret like every blind index.
        "value_index": PersonalField(Category.IDENTIFIER, label="email lookup code", secret=True),
    },
    non_personal=["id", "subject", "kind", "created_at", "updated_at"],
)

# Work moved out of a request so its answer does not tell whether an address is known
# (privacy.deferred): the payload, sealed under the master key, holds what the person
# typed (an address, a message) until a worker handles it, seconds later. It belongs to
# no subject yet (nobody looked the address up), so only its retention applies: a day
# at most, and deleted as soon as the work is done.
personal_data(
    DeferredWork,
    label="form waiting to be processed",
    label_plural="forms waiting to be processed",
    purposes=["service_delivery", "customer_support", "marketing", "data_subject_rights"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=Retention(after="created_at", period=timedelta(days=1)),
    portable=False,
    subject_field=None,
    fields={
        "payload": PersonalField(Category.CONTACT, label="form contents"),
    },
    non_personal=["id", "kind", "attempts", "not_before", "last_error", "created_at", "updated_at"],
)

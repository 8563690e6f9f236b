"""Personal data held by the privacy core itself."""

from datetime import timedelta

from qualipact.privacy.models import SubjectIdentifier
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

personal_data(
    SubjectIdentifier,
    purposes=["service_delivery", "data_subject_rights"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.DERIVED,
    retention=Retention(after="updated_at", period=timedelta(days=3 * 365)),
    portable=False,
    # The blind index of a child's own address: what finds their account.
    for_children=True,
    fields={
        # The blind index of an address (a keyed hash): a secret like every blind index.
        "value_index": PersonalField(Category.IDENTIFIER, secret=True),
    },
    non_personal=["id", "subject", "kind", "created_at", "updated_at"],
)

"""A legal hold's note is personal data; the hold itself outlives erasure while active."""

from datetime import timedelta

from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import (
    Category,
    Erasure,
    PersonalField,
    Retention,
    Source,
    personal_data,
)
from qualipact.retention.models import LegalHold

personal_data(
    LegalHold,
    purposes=["legal_claims"],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.DERIVED,
    # Kept a year after it is lifted (proof of why data was kept), then deleted.
    retention=Retention(after="updated_at", period=timedelta(days=365)),
    # Erasure keeps the hold row (it is why other data was kept) but clears the note.
    erasure=Erasure.NULL,
    portable=False,
    fields={"note": PersonalField(Category.COMMUNICATION, encrypted=True)},
    non_personal=[
        "id",
        "subject",
        "models_held",
        "basis",
        "placed_by",
        "placed_at",
        "lifted_at",
        "created_at",
        "updated_at",
    ],
)

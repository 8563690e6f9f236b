"""A legal hold's note is personal data; the hold, note included, outlives erasure while
it is active (LegalHold.covers): it is why the rest is kept."""

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
    retention=Retention(
        after="updated_at",
        period=timedelta(days=365),
        unless=(("lifted_at__isnull", True),),
        event="it was lifted",
    ),
    # An active hold keeps itself whole; once lifted, erasure keeps the row (why data was
    # kept until then) and clears the note.
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

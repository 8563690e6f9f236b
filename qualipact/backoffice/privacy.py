"""Personal data held by the back office: the address an invitation to join the staff
was sent to."""

from datetime import timedelta

from qualipact.backoffice.models import StaffInvite
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

personal_data(
    StaffInvite,
    label="invitation to join our staff",
    label_plural="invitations to join our staff",
    # Only authorised people get staff access (GDPR Art 32(4), policy §4): the invitation
    # is how an administrator gives it to a named person.
    purposes=["security"],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.THIRD_PARTY,
    # Accepting or cancelling deletes the invitation at once; one nobody answered is
    # deleted when its link expires.
    retention=Retention(after="expires_at", period=timedelta(days=0), event="the link expired"),
    fields={
        "email": PersonalField(
            Category.CONTACT, label="address the invitation was sent to", encrypted=True
        ),
        "email_index": PersonalField(
            Category.IDENTIFIER,
            label="email lookup code",
            blind_index=True,
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "token_hash": PersonalField(
            Category.IDENTIFIER,
            label="invitation link code (hashed)",
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "roles": PersonalField(Category.ACCOUNT, label="roles offered"),
        "expires_at": PersonalField(Category.ACCOUNT, label="link valid until"),
    },
    non_personal=["id", "subject", "invited_by", "created_at", "updated_at"],
)

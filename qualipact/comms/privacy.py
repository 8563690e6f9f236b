"""Personal data held by the email outbox."""

from datetime import timedelta

from qualipact.comms.models import NewsletterSignup, OutboundEmail
from qualipact.privacy.masking import credentials_masked
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

personal_data(
    OutboundEmail,
    label="email we sent you",
    label_plural="emails we sent you",
    # Every email names its purpose (the row's `purpose`): optional notices on legitimate
    # interest, and messages the person asked for or the law requires. Rows for a purpose
    # resting on consent (marketing) are processed on consent instead, which the services
    # check when the email is queued and again just before it is sent; the registry holds
    # one legal basis per field, so the declaration names the notices' basis.
    purposes=[
        "service_notifications",
        "security",
        "service_delivery",
        "customer_support",
        "data_subject_rights",
        "legal_compliance",
        "marketing",
    ],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.DERIVED,
    # Kept 90 days after it was queued (delivery questions, complaints), then deleted.
    retention=Retention(after="created_at", period=timedelta(days=90)),
    # A child's account gets its service emails (verification, the parent's consent
    # request, security notices), never marketing: the purpose rule refuses that.
    for_children_when=lambda row: row.kind == OutboundEmail.Kind.SERVICE,
    fields={
        "to": PersonalField(
            Category.CONTACT, label="recipient address", encrypted=True, source=Source.PROVIDED
        ),
        "to_index": PersonalField(
            Category.IDENTIFIER,
            label="recipient lookup code",
            blind_index=True,
            portable=False,
            secret=True,
        ),
        "subject_line": PersonalField(Category.COMMUNICATION, label="subject", encrypted=True),
        # The text and headers carry the one-time links and codes the email delivered:
        # shown (staff pages, exports, a parent's dashboard) only with those masked.
        "body": PersonalField(Category.COMMUNICATION, encrypted=True, mask=credentials_masked),
        "headers": PersonalField(
            Category.COMMUNICATION, label="email headers", encrypted=True, mask=credentials_masked
        ),
        "message_id": PersonalField(Category.IDENTIFIER, label="message id"),
    },
    non_personal=[
        "id",
        "subject",
        "kind",
        "purpose",
        "status",
        "attempts",
        "next_attempt_at",
        "claim_token",
        "lease_expires_at",
        "sent_at",
        "last_error_code",
        "created_at",
        "updated_at",
    ],
)

personal_data(
    NewsletterSignup,
    label="newsletter sign-up",
    label_plural="newsletter sign-ups",
    purposes=["marketing"],
    source=Source.PROVIDED,
    # A sign-up never confirmed is deleted a year after it was made; a confirmed one
    # (the address the newsletter goes to) is kept while the person consents, and goes
    # once they withdraw. The proof of consent lives in the consent ledger.
    retention=(
        Retention(
            after="updated_at",
            period=timedelta(days=365),
            only=(("confirmed_at__isnull", True),),
            event="you signed up",
        ),
        Retention(
            after="confirmed_at",
            period=None,
            only=(("confirmed_at__isnull", False),),
            ends_with_consent="marketing",
        ),
    ),
    fields={
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_index": PersonalField(
            Category.IDENTIFIER,
            label="email lookup code",
            blind_index=True,
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "wording": PersonalField(
            Category.CONSENT, label="consent wording shown", source=Source.AUTOMATIC
        ),
        "confirmation_hash": PersonalField(
            Category.IDENTIFIER,
            label="confirmation code (hashed)",
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "confirmed_at": PersonalField(Category.CONSENT, source=Source.AUTOMATIC),
    },
    non_personal=["id", "subject", "confirm_by", "created_at", "updated_at"],
)

"""Personal data held by the consent ledger: what each person chose, and when."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q

from qualipact.consent.models import ConsentEvent, ConsentState, PreferenceToken
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data


def _in_force() -> Q:
    """Events of a purpose whose consent or objection still stands for the person."""
    return Q(
        Exists(
            ConsentState.objects.filter(
                subject=OuterRef("subject"), purpose=OuterRef("purpose")
            ).filter(Q(granted=True) | Q(objected=True))
        )
    )


# Proof of consent (Art 7(1)) is kept while the consent stands and while it can be asked
# for: three years after the event, never while the choice it proves is in force.
RETENTION = Retention(
    after="created_at", period=timedelta(days=3 * 365), unless=_in_force, event="the event"
)

personal_data(
    ConsentEvent,
    label="consent record",
    label_plural="consent records",
    # The ledger itself: a consent is changed by a new event, never by editing one.
    append_only=True,
    purposes=["legal_compliance"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.PROVIDED,
    retention=RETENTION,
    fields={
        "purpose": PersonalField(Category.CONSENT),
        "action": PersonalField(Category.CONSENT),
        "channel": PersonalField(Category.CONSENT, source=Source.AUTOMATIC),
        "policy_version": PersonalField(
            Category.CONSENT, label="privacy policy version", source=Source.AUTOMATIC
        ),
        "wording": PersonalField(
            Category.CONSENT, label="consent wording shown", source=Source.AUTOMATIC
        ),
        "occurred_at": PersonalField(Category.CONSENT, source=Source.AUTOMATIC),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

personal_data(
    ConsentState,
    label="current consent choice",
    label_plural="current consent choices",
    purposes=["legal_compliance"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.DERIVED,
    # A consent or objection in force is kept; a choice no longer in force goes three
    # years after it last changed.
    retention=Retention(
        after="updated_at",
        period=timedelta(days=3 * 365),
        only=(("granted", False), ("objected", False)),
        event="your choice last changed",
    ),
    fields={
        "purpose": PersonalField(Category.CONSENT),
        "granted": PersonalField(Category.CONSENT),
        "objected": PersonalField(Category.CONSENT),
        "wording": PersonalField(Category.CONSENT, label="consent wording shown"),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

personal_data(
    PreferenceToken,
    label="preferences link",
    label_plural="preferences links",
    purposes=["service_delivery"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.DERIVED,
    # An opt-out link must work as long as the mail it came in can be read: every mailing
    # reuses a person's bulk link and touches it, so it is kept three years after the
    # last mail that carried it (the ledger's own horizon), or until the person is erased.
    # The token itself is never stored: a bulk link's is derived from the row's id under
    # a server key, a fresh link's exists only in the email.
    retention=Retention(after="updated_at", period=timedelta(days=3 * 365)),
    portable=False,
    fields={
        "token_hash": PersonalField(Category.IDENTIFIER, label="link code (hashed)", secret=True),
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_index": PersonalField(
            Category.IDENTIFIER, label="email lookup code", blind_index=True, secret=True
        ),
        "grants_until": PersonalField(Category.CONSENT, label="may give consent until"),
        "granted_at": PersonalField(
            Category.CONSENT, label="consent given through it at", source=Source.AUTOMATIC
        ),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

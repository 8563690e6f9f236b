"""Personal data held for accounts: the account itself, preferences, sessions, parental
consent, used one-time codes and the sign-in lockout records."""

from datetime import timedelta

from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog, AccessLog

from qualipact.accounts.models import (
    AccountSession,
    ExternalProfile,
    ParentalConsent,
    Preferences,
    UsedOneTimeCode,
    User,
)
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import (
    Category,
    PersonalField,
    Retention,
    Source,
    personal_data,
)

# Accounts nobody has signed in to for three years are erased with everything else of
# the person (counted from the last sign-in, or from creation for an account never used).
ACCOUNT_RETENTION = Retention(
    after="last_login",
    or_after="created_at",
    period=timedelta(days=3 * 365),
    erases_subject=True,
    event="your last sign-in",
)
# Data that lives as long as the account: the same three years, counted the same way.
WITH_ACCOUNT = Retention(
    after="subject__account__last_login",
    or_after="subject__account__created_at",
    period=timedelta(days=3 * 365),
    event="your last sign-in",
)
WITH_ACCOUNT_OF_USER = Retention(
    after="user__last_login",
    or_after="user__created_at",
    period=timedelta(days=3 * 365),
    event="your last sign-in",
)
# A provider's profile is kept while the account uses it, at most three years unchanged.
ACCOUNT_RETENTION_PROFILE = Retention(after="updated_at", period=timedelta(days=3 * 365))
LOCKOUT_RETENTION = Retention(after="attempt_time", period=timedelta(days=30))

personal_data(
    User,
    label="account",
    purposes=["service_delivery"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=ACCOUNT_RETENTION,
    # A child's account holds its email and username, and what signing in needs.
    for_children=True,
    fields={
        "username": PersonalField(Category.IDENTITY),
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_index": PersonalField(
            Category.IDENTIFIER,
            label="email lookup code",
            blind_index=True,
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "pending_email": PersonalField(
            Category.CONTACT, label="new email waiting for confirmation", encrypted=True
        ),
        "password": PersonalField(
            Category.ACCOUNT,
            purposes=("security",),
            legal_basis=LegalBasis.LEGITIMATE_INTEREST,
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "last_login": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC, portable=False),
        "email_verified_at": PersonalField(
            Category.ACCOUNT, label="email confirmed at", source=Source.AUTOMATIC
        ),
        "child_until": PersonalField(
            Category.ACCOUNT, label="child's account until", source=Source.DERIVED
        ),
    },
    non_personal=[
        "id",
        "subject",
        "status",
        "is_active",
        "is_staff",
        "is_superuser",
        "created_at",
        "updated_at",
    ],
)

personal_data(
    Preferences,
    label="account preferences",
    label_plural="account preferences",
    purposes=["service_delivery"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=WITH_ACCOUNT,
    fields={
        "language": PersonalField(Category.ACCOUNT),
        "channel_email": PersonalField(Category.ACCOUNT, label="email about your account"),
        "channel_site": PersonalField(Category.ACCOUNT, label="notices on the site"),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

personal_data(
    AccountSession,
    label="sign-in session",
    label_plural="sign-in sessions",
    purposes=["security"],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.AUTOMATIC,
    # The session list shows the last 90 days; older rows are deleted.
    retention=Retention(after="last_seen_at", period=timedelta(days=90)),
    portable=False,
    # A child's sessions are listed too, but never with a location.
    for_children=True,
    fields={
        # The session key signs the person in: a credential, as is its keyed hash.
        "session_key": PersonalField(Category.IDENTIFIER, encrypted=True, secret=True),
        "session_key_hash": PersonalField(
            Category.IDENTIFIER, label="session key (hashed)", source=Source.DERIVED, secret=True
        ),
        "device": PersonalField(Category.TECHNICAL, encrypted=True),
        "country": PersonalField(
            Category.LOCATION,
            label="country of the connection",
            encrypted=True,
            source=Source.DERIVED,
            for_children=False,
        ),
        "device_hash": PersonalField(
            Category.IDENTIFIER,
            label="device fingerprint (hashed)",
            source=Source.DERIVED,
            secret=True,
        ),
        "signed_in_at": PersonalField(Category.TECHNICAL, label="signed in at"),
        "last_seen_at": PersonalField(Category.TECHNICAL),
        "ended_at": PersonalField(Category.TECHNICAL),
    },
    non_personal=["id", "subject", "ended_reason", "created_at", "updated_at"],
)

personal_data(
    ParentalConsent,
    label="parent's consent",
    label_plural="parents' consents",
    purposes=["legal_compliance"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.PROVIDED,
    # Kept while the child's account exists; a request not answered in time erases the
    # pending account and everything of it (GDPR Art 8: no consent, no account).
    retention=(
        WITH_ACCOUNT,
        Retention(
            after="expires_at",
            period=timedelta(0),
            only=(("status", "requested"),),
            erases_subject=True,
            event="the request to your parent expired unanswered",
        ),
    ),
    for_children=True,
    fields={
        "parent_email": PersonalField(Category.CONTACT, encrypted=True),
        "parent": PersonalField(Category.IDENTIFIER, label="parent's account"),
        "granted_at": PersonalField(Category.CONSENT),
        "withdrawn_at": PersonalField(Category.CONSENT),
        # The hash of the parent's single-use link: whoever has the link may consent.
        "token_hash": PersonalField(
            Category.IDENTIFIER,
            label="consent link code (hashed)",
            source=Source.DERIVED,
            secret=True,
        ),
    },
    non_personal=[
        "id",
        "subject",
        "status",
        "expires_at",
        "confirmation_due_at",
        "confirmation_sent_at",
        "created_at",
        "updated_at",
    ],
)

# django-axes records of failed sign-ins: the client address, browser and the key of the
# account tried (`account:<id>`; a name that matches no account as typed, an address as a
# prefix of its blind index, see accounts.lockout). They name no subject, so only their
# 30-day retention applies; the retention engine sweeps them.
for _model in (AccessAttempt, AccessFailureLog, AccessLog):
    personal_data(
        _model,
        purposes=["security"],
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        source=Source.AUTOMATIC,
        retention=LOCKOUT_RETENTION,
        portable=False,
        subject_field=None,
        fields={
            "ip_address": PersonalField(Category.TECHNICAL),
            "user_agent": PersonalField(Category.TECHNICAL),
            "username": PersonalField(Category.IDENTIFIER),
            "attempt_time": PersonalField(Category.TECHNICAL),
        },
        non_personal=["id", "http_accept", "path_info"],
    )

personal_data(
    ExternalProfile,
    label="profile from a sign-in provider",
    label_plural="profiles from sign-in providers",
    purposes=["service_delivery"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.THIRD_PARTY,
    retention=ACCOUNT_RETENTION_PROFILE,
    fields={
        "uid": PersonalField(
            Category.IDENTIFIER, label="account id at the provider", encrypted=True
        ),
        "name": PersonalField(Category.IDENTITY, encrypted=True),
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_verified": PersonalField(Category.ACCOUNT, label="email confirmed by the provider"),
        "received_at": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC),
    },
    non_personal=["id", "subject", "provider", "created_at", "updated_at"],
)

# allauth's link between an account and a provider account (social login). Only the
# provider's account id is kept here; what the provider said about the person is in
# ExternalProfile, encrypted, and extra_data is saved empty (accounts/services/social.py).
personal_data(
    SocialAccount,
    label="connected sign-in provider",
    label_plural="connected sign-in providers",
    purposes=["service_delivery"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.THIRD_PARTY,
    retention=Retention(after="last_login", period=timedelta(days=3 * 365)),
    subject_field="user__subject",
    fields={
        "uid": PersonalField(Category.IDENTIFIER, label="account id at the provider"),
        "last_login": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC),
        "date_joined": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC),
        "extra_data": PersonalField(Category.ACCOUNT, label="data from the provider"),
    },
    non_personal=["id", "user", "provider"],
)

# allauth's MFA authenticators: a TOTP or recovery-code seed (sealed under the master key,
# accounts/mfa_adapter.py) or a passkey's public credential and its name.
personal_data(
    Authenticator,
    label="two-factor authenticator",
    label_plural="two-factor authenticators",
    purposes=["security"],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.PROVIDED,
    # An authenticator (recovery codes too) lives as long as the account it protects.
    retention=WITH_ACCOUNT_OF_USER,
    subject_field="user__subject",
    portable=False,
    for_children=True,
    fields={
        # TOTP and recovery-code seeds, a passkey's credential: what signs the person in.
        "data": PersonalField(Category.ACCOUNT, label="authenticator secret", secret=True),
        "created_at": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC),
        "last_used_at": PersonalField(Category.TECHNICAL, source=Source.AUTOMATIC),
    },
    non_personal=["id", "user", "type"],
)

# The time steps whose authenticator-app codes were used (accounts.one_time): when a
# person passed their second factor. Needed only while a code could be replayed.
personal_data(
    UsedOneTimeCode,
    label="used one-time code",
    label_plural="used one-time codes",
    purposes=["security"],
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    source=Source.AUTOMATIC,
    # A claimed step only needs to outlive the window in which its code is accepted.
    retention=Retention(after="used_at", period=timedelta(days=1)),
    portable=False,
    for_children=True,
    fields={
        "step": PersonalField(Category.TECHNICAL, label="time step of the code"),
        "used_at": PersonalField(Category.TECHNICAL),
    },
    non_personal=["id", "subject", "kind"],
)

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject

# Letters, digits and . _ - only: never an "@", so a sign-in name is either a username
# or an email address, and a username never leaks an address into a URL or a log.
username_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{3,30}$",
    "Use 3 to 30 letters, digits, dots, underscores or hyphens.",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> "User":
        # Accounts are created through accounts.services.account_create, which also makes
        # the data subject; this exists for Django's createsuperuser and test helpers.
        # Imported here: the services import these models.
        from qualipact.accounts.services import account_create

        return account_create(
            username=username,
            email=extra.pop("email"),
            password=password,
            email_verified=extra.pop("email_verified", True),
            **extra,
        )

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> "User":
        return self.create_user(username, password, is_staff=True, is_superuser=True, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person's account. The address is encrypted under their key and blind-indexed."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        # A child below the age threshold, waiting for a parent's consent: unusable.
        AWAITING_PARENT = "awaiting_parent", "Waiting for a parent's consent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.OneToOneField(DataSubject, on_delete=models.PROTECT, related_name="account")
    username = models.CharField(max_length=30, unique=True, validators=[username_validator])
    email = EncryptedTextField()
    email_index = BlindIndexField(source="email", scope="email", unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # A new address waiting for its confirmation link to be followed.
    pending_email = EncryptedTextField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Only what the age rule needs: the day a child reaches the threshold of their country.
    # Adults store nothing about their age.
    child_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        """The person's name as their sign-in provider (Google, LinkedIn) told it, the
        latest told; "" when none did. The account itself keeps no name, only a username
        and an address."""
        profile = (
            ExternalProfile.objects.filter(subject_id=self.subject_id, name__isnull=False)
            .order_by("-received_at")
            .first()
        )
        return (profile.name or "") if profile is not None else ""

    @property
    def is_child(self) -> bool:
        return self.child_until is not None and timezone.localdate() < self.child_until

    @property
    def is_usable(self) -> bool:
        return (
            self.is_active
            and self.email_verified_at is not None
            and self.status == self.Status.ACTIVE
        )


class Preferences(models.Model):
    """Language and the channels a person wants to hear from us on."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        FRENCH = "fr", "Français"
        GERMAN = "de", "Deutsch"
        SPANISH = "es", "Español"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.OneToOneField(
        DataSubject, on_delete=models.CASCADE, related_name="account_preferences"
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    channel_email = models.BooleanField(default=True)
    channel_site = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of subject {self.subject_id}"


class AccountSession(models.Model):
    """One signed-in browser: what the session list shows and what ends a session."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="account_sessions"
    )
    # Lookups go through a keyed hash; the key itself, a credential, is kept encrypted so
    # that ending sessions (password change, deletion, the session list) can delete them.
    session_key_hash = models.CharField(max_length=64, unique=True)
    session_key = EncryptedTextField()
    device = EncryptedTextField()  # "Firefox on Linux"
    country = EncryptedTextField(null=True, blank=True)  # coarse location from the address
    device_hash = models.CharField(max_length=64)  # keyed hash: has this device been seen?
    signed_in_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-signed_in_at"]
        indexes = [models.Index(fields=["subject", "device_hash"], name="session_device")]

    def __str__(self) -> str:
        return f"Session {self.pk} of subject {self.subject_id}"


class ParentalConsent(models.Model):
    """A child's account waiting for, holding, or having lost a parent's consent."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        GRANTED = "granted", "Granted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The child is the subject: the parent's address given by the child is encrypted
    # under the child's key, so purging the child shreds it too.
    subject = models.OneToOneField(
        DataSubject, on_delete=models.CASCADE, related_name="parental_consent"
    )
    parent_email = EncryptedTextField()
    parent = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="children_consents"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    granted_at = models.DateTimeField(null=True, blank=True)
    # Email-plus: a second message to the parent, some time after consent, with a way to revoke.
    confirmation_due_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Parental consent {self.pk} ({self.status})"


class ExternalProfile(models.Model):
    """What a social login provider (Google, LinkedIn) told us about the person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="external_profiles"
    )
    provider = models.CharField(max_length=64)  # allauth's provider id, e.g. "google"
    # The provider's account id ("sub"), also held by allauth's SocialAccount for sign-in.
    uid = EncryptedTextField()
    name = EncryptedTextField(null=True, blank=True)
    email = EncryptedTextField(null=True, blank=True)
    email_verified = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "provider"], name="profile_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.provider} profile of subject {self.subject_id}"


class UsedOneTimeCode(models.Model):
    """A time step whose authenticator-app code was accepted once for this person.

    Enrolment, sign-in, re-authentication (and so MFA removal, which asks for it) all
    claim the step here before accepting a code; the unique constraint makes the second
    claim fail in every flow, in every process, whatever happens to the cache.
    """

    class Kind(models.TextChoices):
        TOTP = "totp", "Authenticator app code"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="used_one_time_codes"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    step = models.BigIntegerField()  # RFC 6238 time step (Unix time // period)
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["used_at"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "kind", "step"], name="one_time_code_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} step {self.step} of subject {self.subject_id}"

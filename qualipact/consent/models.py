import uuid
from datetime import datetime

from django.db import models

# The ledger's vocabulary of channels, importable with the models that use it.
from qualipact.consent.channels import Channel as Channel
from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES


class ConsentWording(models.Model):
    """The exact words shown when consent is asked, stored once and referenced by hash.

    A wording published as a material change (`requires_renewal`) makes every grant
    given under an older wording of that purpose stop counting until renewed.
    """

    id = models.BigAutoField(primary_key=True)
    purpose = models.CharField(max_length=64)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True)
    policy_version = models.PositiveIntegerField()
    requires_renewal = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose", "-id"]
        indexes = [models.Index(fields=["purpose", "-id"], name="wording_purpose_latest")]

    def __str__(self) -> str:
        return f"Wording {self.sha256[:12]} for {self.purpose} (policy v{self.policy_version})"


class ConsentEvent(models.Model):
    """The append-only ledger: every grant, withdrawal and objection, as it happened."""

    class Action(models.TextChoices):
        GRANT = "grant", "Consent given"
        WITHDRAW = "withdraw", "Consent withdrawn"
        OBJECT = "object", "Objection recorded"
        OBJECTION_WITHDRAWN = "objection_withdrawn", "Objection withdrawn"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=64)
    action = models.CharField(max_length=24, choices=Action.choices)
    channel = models.CharField(max_length=24, choices=Channel.choices)
    policy_version = models.PositiveIntegerField()
    wording = models.ForeignKey(
        ConsentWording, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            models.Index(fields=["subject", "occurred_at"], name="consent_event_subject"),
            # The DPO dashboard counts grants and withdrawals per week.
            models.Index(fields=["occurred_at", "purpose", "action"], name="consent_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.purpose} for {self.subject_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("The consent ledger is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def purpose_label(self) -> str:
        """The purpose in the words the privacy policy uses (the code is internal)."""
        purpose = PURPOSES.get(self.purpose)
        return purpose.label if purpose else "A purpose no longer used"


class ConsentState(models.Model):
    """The current state per person and purpose, derived from the ledger in the same
    transaction as each event, so that checks and audiences are one indexed lookup."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="consent_states"
    )
    purpose = models.CharField(max_length=64)
    granted = models.BooleanField(default=False)
    objected = models.BooleanField(default=False)
    wording = models.ForeignKey(
        ConsentWording, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "purpose"], name="consent_state_unique")
        ]
        indexes = [
            models.Index(fields=["purpose", "granted", "wording"], name="consent_state_audience"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.subject_id}: granted={self.granted}"


class PreferenceToken(models.Model):
    """A capability that opens one person's preference centre from a link in an email.

    Only the SHA-256 of the token is stored. Every link lets its holder withdraw consent
    and object, for as long as the person exists: an opt-out must work as long as the
    mail it came in can be read. Giving consent needs more, because a mail can be
    forwarded: only a fresh link, sent to one person on their request, may grant, once,
    until `grants_until`. A link sent in bulk mail (`grants_until` empty) never grants.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    # A fresh link may give consent once, until then; empty for links sent in bulk mail.
    grants_until = models.DateTimeField(null=True, blank=True)
    # When the one consent a fresh link may give was given.
    granted_at = models.DateTimeField(null=True, blank=True)
    # The address the link was emailed to, under the person's key.
    email = EncryptedTextField(null=True, blank=True)
    email_index = BlindIndexField(source="email", scope="email", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        kind = "fresh link" if self.grants_until else "opt-out link"
        return f"Preference {kind} {self.pk}"

    def may_grant(self, now: datetime) -> bool:
        """A fresh link, within its time and not yet used to give consent."""
        return self.grants_until is not None and self.granted_at is None and now < self.grants_until

    def is_fresh(self, now: datetime) -> bool:
        """Within a fresh link's time: it may also store what the person gives (interests,
        a location). After that, and for bulk links, it may only take things away."""
        return self.grants_until is not None and now < self.grants_until

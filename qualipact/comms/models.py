import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject


class OutboundEmail(models.Model):
    """One email in the outbox. The row, not the broker message, is the source of truth.

    `status` moves queued -> sending (a claim, with a lease) -> sent, or back to queued
    for a retry, or to failed. See docs/architecture.md, "Communications: the email outbox".
    """

    class Kind(models.TextChoices):
        SERVICE = "service", "Service notification"
        MARKETING = "marketing", "Marketing"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="outbound_emails"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What the message is for (a code of privacy.purposes): it decides who may get it.
    purpose = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    to = EncryptedTextField()
    to_index = BlindIndexField(source="to", scope="email", db_index=True)
    subject_line = EncryptedTextField()
    body = EncryptedTextField()
    # JSON object of extra header name -> value (e.g. List-Unsubscribe), or NULL.
    headers = EncryptedTextField(null=True, blank=True)
    # RFC 5322 Message-ID, fixed when queued: a resend carries the same one.
    message_id = models.CharField(max_length=255, unique=True)
    # Claims made so far (each claim is one attempt, even if the worker died during it).
    attempts = models.PositiveIntegerField(default=0)
    # While queued: not to be claimed before this moment.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While sending: the claim's fencing token and when its lease runs out.
    claim_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A short code such as "smtp_451" or "connection_refused"; never exception text.
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["status", "lease_expires_at"], name="outbox_lease"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["service", "marketing"]), name="outbox_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "failed"]),
                name="outbox_status_valid",
            ),
            # A claim always has its token and lease; nothing else has them.
            models.CheckConstraint(
                condition=(
                    Q(status="sending", claim_token__isnull=False, lease_expires_at__isnull=False)
                    | (
                        ~Q(status="sending")
                        & Q(claim_token__isnull=True, lease_expires_at__isnull=True)
                    )
                ),
                name="outbox_claim_has_lease",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"OutboundEmail {self.pk} ({self.kind}, {self.status})"


class NewsletterSignup(models.Model):
    """A newsletter sign-up and its double opt-in: consent counts only once confirmed.

    `wording` is what the person was shown on the sign-up form; confirming grants
    consent under exactly those words.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="newsletter_signups"
    )
    email = EncryptedTextField()
    email_index = BlindIndexField(source="email", scope="email", db_index=True)
    wording = models.ForeignKey(
        "consent.ConsentWording", on_delete=models.PROTECT, related_name="+"
    )
    confirmation_hash = models.CharField(max_length=64, unique=True)
    confirm_by = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Newsletter sign-up {self.pk} ({'confirmed' if self.confirmed_at else 'pending'})"


class Newsletter(models.Model):
    """One issue of the newsletter, written by marketing staff. Holds no personal data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_line = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Newsletter {self.subject_line!r}"

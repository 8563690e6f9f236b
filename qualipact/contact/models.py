import uuid

from django.conf import settings
from django.db import models

from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject


class Inquiry(models.Model):
    """A message sent through the contact form: a question, a privacy request or a complaint."""

    class Kind(models.TextChoices):
        GENERAL = "general", "General question"
        PRIVACY = "privacy", "Privacy / Data Protection Officer"
        COMPLAINT = "complaint", "Complaint"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    class Queue(models.TextChoices):
        """Who handles the message: support agents, or the Data Protection Officer."""

        SUPPORT = "support", "Support"
        DPO = "dpo", "Data Protection Officer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="inquiries")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENERAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    name = EncryptedTextField()
    email = EncryptedTextField()
    email_index = BlindIndexField(source="email", scope="email", db_index=True)
    phone = EncryptedTextField(null=True, blank=True)
    postal_address = EncryptedTextField(null=True, blank=True)
    subject_line = EncryptedTextField()
    message = EncryptedTextField()
    # Set from the kind when the message arrives (QUEUE_BY_KIND); never changed after.
    queue = models.CharField(max_length=16, choices=Queue.choices, default=Queue.SUPPORT)
    # The staff member handling it; the row stays when their account goes.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # When the ticket was closed (its retention counts from then); empty while open.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Sent from a signed-in account (for the account's subject and address), not typed in
    # by a visitor: only such tickets are on the person's own pages ("Your messages"),
    # since an address typed into the form proves nothing about who typed it.
    sent_signed_in = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "inquiries"
        indexes = [
            models.Index(fields=["queue", "status"], name="contact_inquiry_queue"),
            # The staff inbox's page (selectors.inquiry_inbox): in its order and holding
            # every column it reads, so a page is read from the index alone, however deep
            # (bench/support.py: 100,000 tickets).
            models.Index(
                fields=[
                    "queue",
                    "-created_at",
                    "id",
                    "status",
                    "kind",
                    "assigned_to",
                    "assigned_at",
                ],
                name="contact_inquiry_inbox",
            ),
        ]

    def __str__(self) -> str:
        return f"Inquiry {self.pk} ({self.kind})"

    @property
    def reference(self) -> str:
        """What staff call the message: the first eight characters of its id, in capitals."""
        return str(self.pk)[:8].upper()


# The queue each kind of message goes to: privacy requests and complaints to the DPO.
QUEUE_BY_KIND: dict[str, str] = {
    Inquiry.Kind.GENERAL: Inquiry.Queue.SUPPORT,
    Inquiry.Kind.PRIVACY: Inquiry.Queue.DPO,
    Inquiry.Kind.COMPLAINT: Inquiry.Queue.DPO,
}

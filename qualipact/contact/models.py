import uuid

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "inquiries"

    def __str__(self) -> str:
        return f"Inquiry {self.pk} ({self.kind})"

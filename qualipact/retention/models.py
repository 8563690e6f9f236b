import uuid

from django.db import models

from qualipact.privacy.fields import EncryptedTextField
from qualipact.privacy.models import DataSubject


class LegalHold(models.Model):
    """Data of a person that must be kept despite erasure or retention (Art 17(3)(b), (e))."""

    class Basis(models.TextChoices):
        LEGAL_CLAIMS = "legal_claims", "Establishing, exercising or defending legal claims"
        LEGAL_OBLIGATION = "legal_obligation", "A legal obligation to keep it"
        INVESTIGATION = "investigation", "An investigation by an authority"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="legal_holds")
    # Model labels ("contact.Inquiry") the hold covers; empty: everything of the person.
    models_held = models.JSONField(default=list, blank=True)
    basis = models.CharField(max_length=32, choices=Basis.choices)
    # Staff's own words (case reference and so on), encrypted like any personal data.
    note = EncryptedTextField(null=True, blank=True)
    placed_by = models.CharField(max_length=64)
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["subject", "lifted_at"], name="hold_active")]

    def __str__(self) -> str:
        return f"Legal hold {self.pk} on subject {self.subject_id}"

    def covers(self, label: str) -> bool:
        """Whether the hold keeps the person's rows of this model label. A hold always
        keeps the person's holds themselves, its own case note included: it is the
        reason the rest is kept."""
        return not self.models_held or label in self.models_held or label == self._meta.label

import uuid

from django.db import models

from qualipact.privacy.fields import EncryptedTextField
from qualipact.privacy.models import DataSubject


class DataRequest(models.Model):
    """A data-subject request (GDPR Arts 15-22, CCPA): what was asked, when, and the outcome.

    The log part (kind, dates, status, outcome, basis of a refusal) is kept 24 months,
    also after the person is erased; what the person wrote is encrypted and goes with
    their key.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access to my data"
        PORTABILITY = "portability", "A copy to take elsewhere (portability)"
        RECTIFICATION = "rectification", "Correct my data"
        ERASURE = "erasure", "Erase my data"
        RESTRICTION = "restriction", "Restrict processing"
        OBJECTION = "objection", "Object to processing"
        CONSENT_WITHDRAWAL = "consent_withdrawal", "Withdraw consent"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        VERIFYING = "verifying", "Verifying your identity"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING_ON_PERSON = "waiting_on_person", "Waiting for you"
        # Fulfilment hit a problem on our side; a DPO was told and retries or answers.
        FAILED = "failed", "Delayed by a problem on our side"
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"

    # The same statuses in the words staff read (the choices' labels speak to the person).
    STAFF_STATUS_LABELS: dict[str, str] = {
        Status.RECEIVED: "Received",
        Status.VERIFYING: "Verifying identity",
        Status.IN_PROGRESS: "In progress",
        Status.WAITING_ON_PERSON: "Waiting for the person",
        Status.FAILED: "Failed on our side",
        Status.COMPLETED: "Completed",
        Status.REFUSED: "Refused",
    }

    class Regime(models.TextChoices):
        GDPR = "gdpr", "EU / UK (GDPR)"
        CCPA = "ccpa", "California (CCPA)"

    class Channel(models.TextChoices):
        ACCOUNT = "account", "Signed-in account"
        EMAIL = "email", "Verified by email"
        PARENT = "parent", "A parent for their child"
        API = "api", "API"

    class RefusalBasis(models.TextChoices):
        IDENTITY = "identity_not_verified", "We could not verify your identity"
        UNFOUNDED = "manifestly_unfounded", "Manifestly unfounded (Art 12(5))"
        EXCESSIVE = "excessive", "Excessive, in particular repetitive (Art 12(5))"
        LEGAL_OBLIGATION = "legal_obligation", "A legal obligation requires the data"
        LEGAL_CLAIMS = "legal_claims", "Needed for legal claims"
        COMPELLING_GROUNDS = "compelling_grounds", "Compelling legitimate grounds (Art 21(1))"
        OTHER_RIGHTS = "rights_of_others", "It would affect the rights of others"

    # Why a request was refused, as the sentence a person reads after "We cannot do what
    # you asked:" (the choices' labels are the DPO's short names).
    REFUSAL_BASIS_FOR_PERSON: dict[str, str] = {
        RefusalBasis.IDENTITY: "we could not verify your identity",
        RefusalBasis.UNFOUNDED: "the request is manifestly unfounded (GDPR Article 12(5))",
        RefusalBasis.EXCESSIVE: (
            "the request is excessive, in particular because it repeats an earlier one "
            "(GDPR Article 12(5))"
        ),
        RefusalBasis.LEGAL_OBLIGATION: "a legal obligation requires us to keep the data",
        RefusalBasis.LEGAL_CLAIMS: "the data is needed to establish or defend legal claims",
        RefusalBasis.COMPELLING_GROUNDS: (
            "we have compelling legitimate grounds that override your objection "
            "(GDPR Article 21(1))"
        ),
        RefusalBasis.OTHER_RIGHTS: "answering would affect the rights of other people",
    }

    OPEN_STATUSES = (
        Status.RECEIVED,
        Status.VERIFYING,
        Status.IN_PROGRESS,
        Status.WAITING_ON_PERSON,
        Status.FAILED,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.PROTECT, related_name="requests")
    # A parent acting for their child: the parent's subject.
    requested_by = models.ForeignKey(
        DataSubject,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests_made_for_others",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.RECEIVED)
    regime = models.CharField(max_length=8, choices=Regime.choices, default=Regime.GDPR)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # What the person asked, as JSON text: the purpose objected to, the corrections wanted,
    # the endpoint of a direct transfer. Encrypted: it is theirs.
    details = EncryptedTextField(null=True, blank=True)
    received_at = models.DateTimeField()
    due_on = models.DateField()
    extended_due_on = models.DateField(null=True, blank=True)
    extension_reason = EncryptedTextField(null=True, blank=True)
    extension_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Machine-readable result without personal data: what was erased or kept, counts.
    outcome = models.JSONField(default=dict, blank=True)
    refusal_basis = models.CharField(max_length=32, choices=RefusalBasis.choices, blank=True)
    refusal_reason = EncryptedTextField(null=True, blank=True)
    # Email verification for a person without an account: a hash of the one-time code.
    verification_code_hash = models.CharField(max_length=64, blank=True)
    verification_expires_at = models.DateTimeField(null=True, blank=True)
    verification_attempts = models.PositiveSmallIntegerField(default=0)
    # Fulfilment that failed: how often, when it was given up, and a stable code of why
    # (an error code or class name; never an exception's text, which can quote data).
    fulfil_attempts = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "received_at"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="request_queue"),
            models.Index(fields=["subject", "kind"], name="request_subject"),
            # The DPO dashboard's time to answer per month.
            models.Index(fields=["completed_at"], name="request_answered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.pk} ({self.status})"

    @property
    def refusal_basis_for_person(self) -> str:
        """The refusal's ground in a person's words (REFUSAL_BASIS_FOR_PERSON)."""
        return self.REFUSAL_BASIS_FOR_PERSON.get(
            self.refusal_basis, self.get_refusal_basis_display().lower()
        )

    @property
    def staff_status_label(self) -> str:
        """The status in the words staff read ("Waiting for the person")."""
        return self.STAFF_STATUS_LABELS.get(self.status, self.get_status_display())

    @property
    def effective_due_on(self):  # type: ignore[no-untyped-def]
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RequestNote(models.Model):
    """A DPO's internal note on a request; never shown to the person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="notes")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    author = models.CharField(max_length=64)  # staff user id
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on request {self.request_id}"


class ExportFile(models.Model):
    """An access or portability export, sealed under the person's key; downloadable once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="exports")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    # The sealed zip (rights.services.exports.export_seal); emptied when downloaded or after 7 days.
    sealed = models.BinaryField(null=True, blank=True)
    filename = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk} of request {self.request_id}"


class Appeal(models.Model):
    """A person's appeal of a refused request, decided by a second Data Protection Officer.

    US state laws ask for an appeal process answered within 60 days (Virginia CDPA
    §59.1-578(C), Colorado CPA §6-1-1306(3), Connecticut CTDPA §42-520(d)); GDPR Art 12(4)
    asks that the person be told they may complain to a supervisory authority. One appeal
    per refusal: a granted appeal reopens the request, and a later refusal may be appealed
    again. What the person wrote, the country they declared and the decision's reasons are
    encrypted under their key.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a decision"
        GRANTED = "granted", "Granted: we take up your request again"
        UPHELD = "upheld", "Refusal upheld"

    # Days from the appeal to its decision, at the latest (the US state laws' 60 days).
    DECIDE_WITHIN_DAYS = 60

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="appeals")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Why the person disagrees, in their own words.
    text = EncryptedTextField()
    # The country the person says they live in (ISO 3166-1 alpha-2, privacy.countries), to
    # name their supervisory authority; empty when they did not say.
    country = EncryptedTextField(null=True, blank=True)
    made_at = models.DateTimeField()
    due_on = models.DateField()
    # The staff user id of who refused the request ("" when the system refused it, e.g.
    # after too many wrong codes): they may not decide the appeal.
    refused_by = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=64, blank=True)  # staff user id
    decision_reason = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "made_at"]
        indexes = [models.Index(fields=["status", "due_on"], name="appeal_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(status="open"),
                name="one_open_appeal_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"Appeal {self.pk} of request {self.request_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

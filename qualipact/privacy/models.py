import uuid

from django.db import models


class DataSubject(models.Model):
    """One person the system knows. Every table with personal data points here as `subject`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Art 18: while set, purpose enforcement refuses everything but legal claims and compliance.
    restricted_at = models.DateTimeField(null=True, blank=True)
    # Set when erasure has run; the row stays as a tombstone so audit events keep their meaning.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"DataSubject {self.id}"

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None


class SubjectIdentifier(models.Model):
    """A blind-indexed identifier (such as an email) that finds a subject without plaintext."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value_index"], name="identifier_unique_value")
        ]

    def __str__(self) -> str:
        return f"{self.kind} identifier of subject {self.subject_id}"


class SubjectKey(models.Model):
    """A subject's data key, wrapped under a master key. Lives only in the key database."""

    # No foreign key: the key database is separate from the main one.
    subject_id = models.UUIDField(primary_key=True)
    master_key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Data key of subject {self.subject_id} ({self.master_key_id})"


class ShredRecord(models.Model):
    """Proof that a subject's key was destroyed; refuses any new key for that subject."""

    id = models.BigAutoField(primary_key=True)
    subject_id = models.UUIDField(unique=True)
    shredded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Key of subject {self.subject_id} shredded at {self.shredded_at}"


class AuditEvent(models.Model):
    """One append-only, hash-chained audit event. Ids and field names only, never plaintext."""

    class ActorKind(models.TextChoices):
        SYSTEM = "system", "System"
        SUBJECT = "subject", "Data subject"
        STAFF = "staff", "Staff member"

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    code = models.PositiveIntegerField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    purpose = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["subject_id", "occurred_at"], name="audit_subject_time"),
            models.Index(fields=["code", "occurred_at"], name="audit_code_time"),
        ]

    def __str__(self) -> str:
        return f"Audit event {self.id} (code {self.code})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only")


class AuditHead(models.Model):
    """The single row holding the chain's head; locked while an event is appended."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Audit chain head at event {self.last_event_id}"


class DeferredWork(models.Model):
    """Work whose cost would tell whether an address is known, done after the answer.

    The payload (an address, a password hash, a message...) is sealed under the site's
    master key (`vault.master_seal`): the broker message carries only this row's id, and
    the row, not the message, is the source of truth (privacy.deferred).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)  # the registered handler, e.g. "accounts.sign_up"
    payload = models.TextField()  # "m1.<master key id>.<sealed JSON>"
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=64, blank=True)  # an exception class name
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Deferred {self.kind} {self.id}"

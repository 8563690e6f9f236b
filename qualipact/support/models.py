"""A ticket's conversation: what was said after the first message, by whom and how.

A ticket is a contact-form message (`contact.Inquiry`: its reference, kind, queue,
status and assignment) with the thread kept here: the person's replies by email or on
the site, staff answers (sent through the outbox), calls and chats logged by staff,
internal notes (never shown to the person, never in their export), attachments, the
person's rating of the answer, emailed links that open the ticket without an account,
and, for a complaint, its deadlines, the supervisory authority and the DPO's outcome
(GDPR Art 12(3), Art 77; policy §1, §2, §12).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from qualipact.contact.models import Inquiry
from qualipact.privacy.fields import EncryptedTextField
from qualipact.privacy.models import DataSubject


class TicketMessage(models.Model):
    """One message of a ticket's thread after the first (which is the inquiry itself)."""

    class Kind(models.TextChoices):
        EMAIL_IN = "email_in", "Email from the person"
        SITE_IN = "site_in", "Reply on the site"
        ANSWER = "answer", "Answer from us"
        PHONE = "phone", "Phone call"
        CHAT = "chat", "Chat"

    # Written by the person (the rest by staff).
    FROM_PERSON = (Kind.EMAIL_IN, Kind.SITE_IN)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="thread")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The staff member who answered or logged it; kept when their account goes.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = EncryptedTextField()
    # For an email received: whether its sender was the ticket's address (the reply
    # address found the ticket; the From header alone never does).
    sender_matches = models.BooleanField(null=True, blank=True)
    # The Message-ID of an email received, hashed: the same email delivered twice is
    # kept once.
    email_id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["inquiry", "created_at"], name="support_msg_thread")]

    def __str__(self) -> str:
        return f"Ticket message {self.pk} ({self.kind})"

    @property
    def from_person(self) -> bool:
        return self.kind in self.FROM_PERSON


class InternalNote(models.Model):
    """Staff's working note on a ticket: never shown to the person, never in their export."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="internal_notes")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Internal note {self.pk}"


class Attachment(models.Model):
    """A file that came with an email reply: an allowed type and size, kept encrypted
    (its content base64 under the person's key)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    filename = EncryptedTextField()
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()  # bytes, before encoding
    content = EncryptedTextField()  # base64
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Attachment {self.pk} ({self.content_type})"


class Feedback(models.Model):
    """The person's rating of the answer they got (policy §1 "feedback"): one per ticket,
    changed if they rate again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, related_name="feedback")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()  # 1 (poor) to 5 (excellent)
    comment = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Feedback {self.pk} ({self.score}/5)"


class TicketLink(models.Model):
    """A link emailed to the person that opens their ticket without an account.

    Only the SHA-256 of the token is stored. A link opens the ticket once
    (`opened_at`) and expires (`expires_at`); opening it starts a visit, a second token
    in the page's forms (not its address) that lets the person reply and rate until the
    visit ends. A spent or expired link offers a fresh one, sent to the ticket's address.
    """

    class Kind(models.TextChoices):
        EMAILED = "emailed", "Emailed link"
        VISIT = "visit", "Visit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMAILED)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="support_link_expiry")]

    def __str__(self) -> str:
        return f"Ticket link {self.pk} ({self.kind})"


class Complaint(models.Model):
    """A complaint's handling: its deadlines, the supervisory authority the person was
    told of, and the DPO's outcome.

    Deadlines: acknowledged within 7 days, answered within one month of receipt, which
    the DPO may extend by up to two further months with reasons given to the person
    (GDPR Art 12(3)). `reminded_at` records the reminder emailed to the DPOs before the
    deadline passes.
    """

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld: we were at fault and put it right"
        PARTLY_UPHELD = "partly_upheld", "Partly upheld"
        NOT_UPHELD = "not_upheld", "Not upheld"
        WITHDRAWN = "withdrawn", "Withdrawn by the person"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, related_name="complaint")
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="+")
    # ISO 3166-1 alpha-2 of where the person lives, as they told us (names the authority).
    country = models.CharField(max_length=2, blank=True, default="")
    acknowledge_by = models.DateTimeField()
    answer_by = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = EncryptedTextField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    outcome_note = EncryptedTextField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["decided_at", "answer_by"], name="support_complaint_due")]

    def __str__(self) -> str:
        return f"Complaint {self.pk}"

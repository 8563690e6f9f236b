"""The back office's tables: invitations to join the staff.

A staff account itself is an ordinary account (accounts.User with `is_staff`); its roles
are Django groups (qualipact.web.roles). What the back office keeps of its own is the
invitation an administrator sends before the account exists.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject


class StaffInvite(models.Model):
    """An emailed, single-use, expiring invitation to join the staff with `roles`.

    Only the SHA-256 of the link's token is stored (`privacy.tokens.token_hash`). The
    row is deleted when the invitee accepts it or an administrator cancels it; an
    unanswered one is deleted by the retention engine once it has expired
    (backoffice/privacy.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The person invited, known by the address only (privacy.services.subject_for_email).
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="staff_invites")
    email = EncryptedTextField()
    email_index = BlindIndexField(source="email", scope="email", db_index=True)
    # `web.roles.Role` values, granted when the invitation is accepted.
    roles = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"StaffInvite {self.pk}"

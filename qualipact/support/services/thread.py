"""The person's side of a ticket's thread: what they write after the first message."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from qualipact.contact.models import Inquiry
from qualipact.privacy.errors import ApplicationError
from qualipact.support import events
from qualipact.support.models import Attachment, TicketMessage
from qualipact.support.services.tickets import purpose_of

MESSAGE_MAX = 20_000  # characters of a reply kept (the rest is refused, not cut)


@dataclass(frozen=True)
class IncomingFile:
    """A file that came with a reply, already checked for its type and size
    (`support.inbound`): `content_type` as decided from its content."""

    filename: str
    content_type: str
    content: bytes


@transaction.atomic
def message_receive(
    *,
    inquiry: Inquiry,
    kind: str,
    body: str,
    files: Sequence[IncomingFile] = (),
    email_id: str | None = None,
    sender_matches: bool | None = None,
) -> TicketMessage | None:
    """Add what the person wrote (`kind`: EMAIL_IN or SITE_IN) to the ticket's thread,
    encrypted, with its files; a closed or answered ticket is open again for staff
    (status "received"); audited (1101).

    `email_id` is an email's Message-ID: the same email delivered twice is kept once
    (then None is returned). ApplicationError for an empty or over-long body or a kind
    the person cannot write.
    """
    if kind not in TicketMessage.FROM_PERSON:
        raise ApplicationError("Not a kind of message a person writes", {"kind": "invalid"})
    body = body.strip()
    if not body and not files:
        raise ApplicationError("Write a message", {"body": "empty"})
    if len(body) > MESSAGE_MAX:
        raise ApplicationError(
            f"A message may be at most {MESSAGE_MAX:,} characters", {"body": "too_long"}
        )
    id_hash = hashlib.sha256(email_id.encode()).hexdigest() if email_id else None
    if id_hash and TicketMessage.objects.filter(email_id_hash=id_hash).exists():
        return None
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    message = TicketMessage.objects.create(
        inquiry=locked,
        subject_id=locked.subject_id,
        kind=kind,
        body=body or "(files only)",
        email_id_hash=id_hash,
        sender_matches=sender_matches,
    )
    for file in files:
        Attachment.objects.create(
            message=message,
            subject_id=locked.subject_id,
            filename=file.filename,
            content_type=file.content_type,
            size=len(file.content),
            content=base64.b64encode(file.content).decode("ascii"),
        )
    if locked.status != Inquiry.Status.RECEIVED:
        locked.status = Inquiry.Status.RECEIVED
        locked.closed_at = None
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    events.message_received_event(
        inquiry=locked, message_id=str(message.pk), kind=kind, purpose=purpose_of(locked)
    )
    return message

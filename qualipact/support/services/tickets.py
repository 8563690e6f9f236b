"""Tickets: opening one from the contact form, and every email sent about one.

Every contact-form message becomes a ticket (`contact.Inquiry`, with its reference).
The sender is told its reference and what happens next; a complaint gets its deadlines
(acknowledged within 7 days, answered within one month: GDPR Art 12(3)) and the name
of the supervisory authority of the person's country (Art 77, `privacy.authorities`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from qualipact.comms.models import OutboundEmail
from qualipact.comms.services import email_queue, thread_message_id
from qualipact.contact.models import Inquiry
from qualipact.contact.services import PURPOSE_BY_KIND, inquiry_refusal_notice, inquiry_submit
from qualipact.privacy.authorities import authority_sentence
from qualipact.privacy.errors import ProcessingRefused, SubjectShredded
from qualipact.support import events
from qualipact.support.addresses import reply_address
from qualipact.support.models import Complaint
from qualipact.support.services.links import LINK_DAYS, link_issue
from qualipact.web.dates import long_date

logger = logging.getLogger(__name__)

ACKNOWLEDGE_WITHIN = timedelta(days=7)
ANSWER_WITHIN = timedelta(days=30)  # "one month" (Art 12(3)), counted as 30 days


def purpose_of(inquiry: Inquiry) -> str:
    """The purpose a ticket is handled for (a `privacy.purposes` code): its kind's."""
    return PURPOSE_BY_KIND[Inquiry.Kind(inquiry.kind)]


def thread_id(inquiry: Inquiry) -> str:
    """The Message-ID of the ticket's first email, its acknowledgement, which every later
    email about the ticket names as the one it follows (RFC 5322 §3.6.4)."""
    return thread_message_id(f"ticket-{inquiry.pk.hex}")


def ticket_email(
    *, inquiry: Inquiry, subject_line: str, body: str, first: bool = False
) -> OutboundEmail:
    """Queue an email about `inquiry` to the address it came from, through the outbox.

    The email says the ticket's reference in its subject, ends with a fresh link that
    opens the ticket (`link_issue`) and carries the ticket's own Reply-To address
    (`support.addresses`), so an emailed reply lands in the same ticket. The `first`
    email (the acknowledgement) has the ticket's `thread_id` as its Message-ID; every
    other one names it in In-Reply-To and References, so a mail program shows the
    ticket's emails as one conversation. Raises ProcessingRefused (nothing queued) when
    the person may not be written to.
    """
    link = link_issue(inquiry=inquiry)
    text = (
        f"{body.rstrip()}\n\n"
        f"To see the whole conversation and reply, open this link within {LINK_DAYS} days "
        f"(it works once; later, the page sends you a new one):\n{link}\n\n"
        "You can also simply reply to this email.\n"
    )
    return email_queue(
        subject=inquiry.subject,
        to=inquiry.email,
        subject_line=f"[{inquiry.reference}] {subject_line}",
        body=text,
        # The queue's purpose (contact.queues), named here as the outbox test reads it.
        purpose=(
            "data_subject_rights" if inquiry.queue == Inquiry.Queue.DPO else "customer_support"
        ),
        headers={"Reply-To": reply_address(inquiry)}
        | ({} if first else {"In-Reply-To": thread_id(inquiry), "References": thread_id(inquiry)}),
        message_id=thread_id(inquiry) if first else None,
    )


def _acknowledgement(inquiry: Inquiry, complaint: Complaint | None) -> str:
    lines = [
        f"Hello {inquiry.name},",
        "",
        f"We received your message “{inquiry.subject_line}”. Its reference is "
        f"{inquiry.reference}; please quote it if you write to us about it.",
        "",
    ]
    if complaint is not None:
        lines += [
            "Your complaint goes to our Data Protection Officer. We will confirm that we "
            f"are looking into it by {long_date(complaint.acknowledge_by)} and answer by "
            f"{long_date(complaint.answer_by)}. If we need longer, we will tell you why "
            "before then.",
            "",
            authority_sentence(complaint.country or None),
        ]
    elif inquiry.queue == Inquiry.Queue.DPO:
        lines.append(
            "Your message goes to our Data Protection Officer, who answers within one month."
        )
    else:
        lines.append("A member of our support team will answer you by email.")
    return "\n".join(lines)


@transaction.atomic
def ticket_open(
    *, country: str = "", account_subject_id: uuid.UUID | None = None, **fields: str
) -> Inquiry:
    """Store a contact-form message as a ticket (`contact.services.inquiry_submit`
    takes `fields`, and `account_subject_id` when it was sent signed in), start a
    complaint's deadlines, and acknowledge it to the sender with its reference.
    `country` (ISO alpha-2, may be empty) names the supervisory authority a complainant
    may turn to. Raises what `inquiry_submit` raises."""
    inquiry = inquiry_submit(**fields, account_subject_id=account_subject_id)
    complaint = None
    if inquiry.kind == Inquiry.Kind.COMPLAINT:
        received = inquiry.created_at or timezone.now()
        complaint = Complaint.objects.create(
            inquiry=inquiry,
            subject_id=inquiry.subject_id,
            country=(country or "").upper()[:2],
            acknowledge_by=received + ACKNOWLEDGE_WITHIN,
            answer_by=received + ANSWER_WITHIN,
        )
        events.complaint_opened_event(inquiry=inquiry, purpose=purpose_of(inquiry))
    ticket_email(
        inquiry=inquiry,
        subject_line="We received your message",
        body=_acknowledgement(inquiry, complaint),
        first=True,
    )
    events.ticket_acknowledged_event(inquiry=inquiry, purpose=purpose_of(inquiry))
    return inquiry


def ticket_open_finish(payload: dict[str, Any]) -> None:
    """The background half of the contact form (`contact.services.inquiry_submit_later`,
    registered for its deferred kind): open the ticket, or tell the owner of a child's
    account why nothing was kept. A payload without `account_subject_id` (stored before
    it existed) was sent by a visitor."""
    fields = dict(payload)
    account = fields.pop("account_subject_id", "")
    account_subject_id = uuid.UUID(account) if account else None
    try:
        ticket_open(**fields, account_subject_id=account_subject_id)
    except ProcessingRefused:
        # A child's account: nothing beyond email and username may be stored for them.
        logger.info("contact form: message from a child's account not stored")
        inquiry_refusal_notice(email=payload["email"], account_subject_id=account_subject_id)
    except SubjectShredded:
        # Sent signed in by a person erased before the worker stored it: nobody to keep
        # it for, nor to write to.
        logger.info("contact form: message of an erased account not stored")

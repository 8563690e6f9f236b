"""Links that open a ticket without an account (the person's only key is their mailbox).

An emailed link opens the ticket once and expires after `LINK_DAYS`; opening it starts
a visit of `VISIT_MINUTES`, whose token travels in the page's forms (never in a cookie
or an address), so the person can reply and rate without signing in. Tokens are 256-bit
random (`secrets.token_urlsafe(32)`); only their SHA-256 is stored (`privacy.tokens`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from qualipact.contact.models import Inquiry
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.tokens import token_hash
from qualipact.support import events
from qualipact.support.models import TicketLink
from qualipact.web.links import site_url

LINK_DAYS = 14
VISIT_MINUTES = 60
PURPOSE = "customer_support"


@dataclass(frozen=True)
class Visit:
    """An opened link: the ticket and the token the page's forms carry."""

    inquiry: Inquiry
    token: str
    expires_at: datetime


def link_issue(*, inquiry: Inquiry) -> str:
    """A new emailed link to `inquiry`: its absolute URL (`support:ticket_link`), good
    for one opening within LINK_DAYS. The caller puts it in an email to the ticket's
    address (in its transaction)."""
    token = secrets.token_urlsafe(32)
    TicketLink.objects.create(
        inquiry=inquiry,
        subject_id=inquiry.subject_id,
        kind=TicketLink.Kind.EMAILED,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(days=LINK_DAYS),
    )
    return site_url("support:ticket_link", token=token)


@transaction.atomic
def link_open(*, token: str) -> Visit:
    """Spend an emailed link and start a visit of its ticket.

    Raises ApplicationError with `{"link": "unknown"}` (no such link), `"spent"` (opened
    before) or `"expired"`; `error.inquiry_id` is then set for a spent or expired link,
    so the page can offer to email a fresh one to the ticket's address.
    """
    link = (
        TicketLink.objects.select_for_update()
        .select_related("inquiry")
        .filter(token_hash=token_hash(token), kind=TicketLink.Kind.EMAILED)
        .first()
    )
    if link is None:
        raise ApplicationError("This link is not one of ours", {"link": "unknown"})
    now = timezone.now()
    problem = "spent" if link.opened_at else "expired" if link.expires_at <= now else ""
    if problem:
        error = ApplicationError(
            "This link was used already" if problem == "spent" else "This link has expired",
            {"link": problem},
        )
        error.inquiry_id = link.inquiry_id  # type: ignore[attr-defined]
        raise error
    link.opened_at = now
    link.save(update_fields=["opened_at"])
    events.link_opened_event(inquiry=link.inquiry, link_id=str(link.pk), purpose=PURPOSE)
    visit_token = secrets.token_urlsafe(32)
    visit = TicketLink.objects.create(
        inquiry=link.inquiry,
        subject_id=link.subject_id,
        kind=TicketLink.Kind.VISIT,
        token_hash=token_hash(visit_token),
        expires_at=now + timedelta(minutes=VISIT_MINUTES),
        opened_at=now,
    )
    return Visit(inquiry=link.inquiry, token=visit_token, expires_at=visit.expires_at)


def visit_inquiry(*, token: str) -> Inquiry:
    """The ticket a visit token (from a page's form) opens. ApplicationError with
    `{"visit": "ended"}` when the visit is over, `{"visit": "unknown"}` when the token
    was never one of ours (a page that was altered, or a form sent from elsewhere)."""
    link = (
        TicketLink.objects.select_related("inquiry")
        .filter(token_hash=token_hash(token), kind=TicketLink.Kind.VISIT)
        .first()
    )
    if link is None:
        raise ApplicationError("This page's form is not one of ours", {"visit": "unknown"})
    if link.expires_at <= timezone.now():
        raise ApplicationError(
            "This page was open too long; follow the link in your latest email again",
            {"visit": "ended"},
        )
    return link.inquiry

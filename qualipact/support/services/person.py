"""What the person does with their ticket on the site: reply, rate the answer, and ask for
a fresh link when the one they followed was used or has expired.

The person is either signed in (their account's subject owns the ticket, which they
sent signed in) or holds a visit, started by an emailed link (`services.links`); the
views decide which, these services act on the ticket they are given.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.core.cache import cache
from django.db import transaction

from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.support import events
from qualipact.support.models import Feedback, TicketLink, TicketMessage
from qualipact.support.selectors import answer_given
from qualipact.support.services.thread import message_receive
from qualipact.support.services.tickets import ticket_email

PURPOSE = "customer_support"
SCORES = range(1, 6)  # 1 (poor) to 5 (excellent)
COMMENT_MAX = 2000  # characters
# A fresh link goes to a ticket's address at most once in this time, whoever asks.
FRESH_LINK_SECONDS = 600
FORM_KEY_MAX = 64


class FreshLink(StrEnum):
    """What came of asking for a fresh link."""

    SENT = "sent"
    RECENT = "recent"  # one was sent less than FRESH_LINK_SECONDS ago: nothing sent


@transaction.atomic
def ticket_for_other_refused(*, subject_id: uuid.UUID, ticket_id: uuid.UUID) -> None:
    """Record that the person `subject_id`, signed in, asked for a ticket that is not
    theirs, was not sent signed in, or does not exist, and was answered "not found"
    (1170)."""
    owner = Inquiry.objects.filter(pk=ticket_id).values_list("subject_id", flat=True).first()
    events.ticket_for_other_refused_event(
        actor_subject_id=subject_id, owner_subject_id=owner, tried=ticket_id
    )


@transaction.atomic
def ticket_reply(*, inquiry: Inquiry, body: str, form_key: str = "") -> TicketMessage | None:
    """The person's reply on the site (SITE_IN), added to the thread through
    `message_receive` (which reopens an answered or closed ticket and audits it, 1101).

    `form_key` is the random key of the page the reply was written on: the same form
    sent twice (a reload of the answer to a POST) is kept once, and None is returned the
    second time. ApplicationError for an empty or over-long reply.
    """
    key = form_key.strip()[:FORM_KEY_MAX]
    return message_receive(
        inquiry=inquiry,
        kind=TicketMessage.Kind.SITE_IN,
        body=body,
        # The thread's own once-only key: a site form's key can never equal an email's
        # Message-ID, which always holds an "@".
        email_id=f"site-form:{inquiry.pk}:{key}" if key else None,
    )


@transaction.atomic
def feedback_give(*, inquiry: Inquiry, score: int, comment: str = "") -> Feedback:
    """Record the person's rating of the answer to their ticket (policy §1 "feedback"):
    `score` 1 to 5 and an optional comment, encrypted; rating again replaces the earlier
    rating. Audited (1105, with the score only).

    ApplicationError `{"score": "invalid"}`, `{"comment": "too_long"}`, or
    `{"ticket": "not_answered"}` while there is no answer to rate yet (`answer_given`: a
    later message of the person's, waiting for our next answer, does not take it away).
    """
    if score not in SCORES:
        raise ApplicationError("A rating is a whole number from 1 to 5", {"score": "invalid"})
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise ApplicationError(
            f"A comment may be at most {COMMENT_MAX:,} characters", {"comment": "too_long"}
        )
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if not answer_given(inquiry=locked):
        raise ApplicationError("There is no answer to rate yet", {"ticket": "not_answered"})
    feedback, _ = Feedback.objects.update_or_create(
        inquiry=locked,
        defaults={"subject_id": locked.subject_id, "score": score, "comment": comment or None},
    )
    events.feedback_given_event(inquiry=locked, score=score, purpose=PURPOSE)
    return feedback


@transaction.atomic
def link_fresh_send(*, inquiry: Inquiry) -> FreshLink:
    """Email a fresh link to the ticket, to the address the ticket came from (never
    another), when the person's link was used or has expired. At most one per
    FRESH_LINK_SECONDS per ticket, whoever asks: RECENT then, and nothing is sent.
    Audited (1106). Raises ProcessingRefused (nothing sent) when the person may not be
    written to.
    """
    # Counted before sending, so two clicks at once send one email; a refused send
    # counts too (asking again within the time would be refused the same way).
    if not cache.add(f"support:fresh-link:{inquiry.pk}", 1, timeout=FRESH_LINK_SECONDS):
        return FreshLink.RECENT
    ticket_email(
        inquiry=inquiry,
        subject_line="A new link to your message",
        body="You asked for a new link to your message: here it is.",
    )
    link = (
        TicketLink.objects.filter(inquiry=inquiry, kind=TicketLink.Kind.EMAILED)
        .order_by("-created_at")
        .first()
    )
    assert link is not None  # ticket_email issued it just now
    events.link_sent_event(
        inquiry=inquiry,
        actor=Actor.subject(inquiry.subject_id),
        link_id=str(link.pk),
        purpose=PURPOSE,
    )
    return FreshLink.SENT

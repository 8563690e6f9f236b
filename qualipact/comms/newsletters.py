"""Newsletters: double opt-in sign-up, sending to the consenting audience, one-click
unsubscribe (RFC 8058).

The audience of a send is computed at send time by the set-based purpose filter, so
nobody who withdrew, objected, was restricted or erased gets it. Every marketing email
carries `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qualipact.comms.models import Newsletter, NewsletterSignup, OutboundEmail
from qualipact.comms.services import email_queue
from qualipact.consent.models import Channel, ConsentState
from qualipact.consent.selectors import consent_wording_current, token_hash
from qualipact.consent.services import consent_grant, consent_withdraw, preference_link_issue
from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.deferred import deferred_submit
from qualipact.privacy.enforcement import subjects_for_purpose
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.services import subject_for_email

PURPOSE = "marketing"
DEFERRED_SIGNUP = "comms.newsletter_signup"
logger = logging.getLogger(__name__)
CONFIRM_DAYS = 7
ACTOR = Actor.system("newsletter")


class InvalidConfirmation(ApplicationError):
    code = "invalid_confirmation"
    status = 404


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def newsletter_signup(*, email: str, wording_sha256: str) -> NewsletterSignup:
    """Record a sign-up and email a confirmation link; consent waits for the click."""
    wording = consent_wording_current(PURPOSE)
    if wording_sha256 != wording.sha256:
        # The form showed other words than those in force: ask again rather than guess.
        raise ApplicationError(
            "The newsletter wording changed; please read it again", {"wording": "stale"}
        )
    subject = subject_for_email(email=email, actor=ACTOR)
    token = secrets.token_urlsafe(32)
    signup = NewsletterSignup.objects.create(
        subject=subject,
        email=email,
        wording=wording,
        confirmation_hash=token_hash(token),
        confirm_by=timezone.now() + timedelta(days=CONFIRM_DAYS),
    )
    link = _absolute(reverse("comms:newsletter_confirm", args=[token]))
    email_queue(
        subject=subject,
        to=email,
        subject_line="Please confirm your Qualipact newsletter subscription",
        body=(
            "Someone, hopefully you, asked to receive the Qualipact newsletter at this "
            f"address.\n\nTo confirm, open this link within {CONFIRM_DAYS} days and press "
            f"Confirm:\n{link}\n\nIf it was not you, ignore this email: nothing will be sent."
        ),
        kind=OutboundEmail.Kind.SERVICE,
    )
    audit_log(
        code=EventCode.NEWSLETTER_SIGNUP,
        actor=Actor.subject(subject.pk),
        subject_id=subject.pk,
        purpose=PURPOSE,
        data={"signup_id": str(signup.pk)},
    )
    return signup


def newsletter_signup_later(*, email: str, wording_sha256: str) -> None:
    """The sign-up form's service: the wording is checked now, the rest in the background.

    Registering a new subject takes time that a known one does not, so the sign-up itself
    runs in the background (privacy.deferred) and the form answers the same, in the same
    time, for every address. Raises ApplicationError when the wording changed.
    """
    if wording_sha256 != consent_wording_current(PURPOSE).sha256:
        raise ApplicationError(
            "The newsletter wording changed; please read it again", {"wording": "stale"}
        )
    deferred_submit(
        kind=DEFERRED_SIGNUP, payload={"email": email, "wording_sha256": wording_sha256}
    )


def newsletter_signup_finish(payload: dict[str, str]) -> None:
    """The background half of `newsletter_signup_later`."""
    try:
        newsletter_signup(email=payload["email"], wording_sha256=payload["wording_sha256"])
    except ApplicationError as error:
        # Refused for this person (a child's address) or the wording changed meanwhile:
        # nothing is stored, and the form already answered as for anyone.
        logger.info("newsletter sign-up not kept (%s)", error.code)


def _pending(token: str) -> NewsletterSignup:
    signup = (
        NewsletterSignup.objects.select_related("subject", "wording")
        .filter(confirmation_hash=token_hash(token))
        .first()
    )
    if signup is None or signup.subject.erased_at is not None:
        raise InvalidConfirmation("This confirmation link is not valid.")
    if signup.confirmed_at is None and signup.confirm_by < timezone.now():
        raise InvalidConfirmation("This confirmation link has expired; please sign up again.")
    return signup


def newsletter_signup_for_token(token: str) -> NewsletterSignup:
    return _pending(token)


@transaction.atomic
def newsletter_confirm(*, token: str) -> NewsletterSignup:
    """The second opt-in: grant consent under the words shown at sign-up. Idempotent."""
    signup = _pending(token)
    if signup.confirmed_at is not None:
        return signup
    signup.confirmed_at = timezone.now()
    signup.save(update_fields=["confirmed_at", "updated_at"])
    consent_grant(
        subject=signup.subject,
        purpose=PURPOSE,
        channel=Channel.EMAIL_LINK,
        actor=Actor.subject(signup.subject_id),
        wording=signup.wording,
    )
    audit_log(
        code=EventCode.NEWSLETTER_CONFIRMED,
        actor=Actor.subject(signup.subject_id),
        subject_id=signup.subject_id,
        purpose=PURPOSE,
        data={"signup_id": str(signup.pk)},
    )
    return signup


@transaction.atomic
def newsletter_unsubscribe(*, subject: DataSubject) -> bool:
    """Withdraw newsletter consent at once. Idempotent: returns whether anything changed."""
    granted = ConsentState.objects.filter(subject=subject, purpose=PURPOSE, granted=True)
    if not granted.exists():
        return False
    consent_withdraw(
        subject=subject,
        purpose=PURPOSE,
        channel=Channel.EMAIL_LINK,
        actor=Actor.subject(subject.pk),
    )
    return True


def newsletter_audience() -> list[NewsletterSignup]:
    """The latest confirmed sign-up of every person marketing may reach right now."""
    allowed = subjects_for_purpose(DataSubject.objects.order_by(), PURPOSE).values("pk")
    latest: dict[object, NewsletterSignup] = {}
    confirmed = (
        NewsletterSignup.objects.select_related("subject")
        .filter(confirmed_at__isnull=False, subject__in=allowed)
        .order_by("confirmed_at")
    )
    for signup in confirmed:
        latest[signup.subject_id] = signup
    return list(latest.values())


@transaction.atomic
def newsletter_write(*, subject_line: str, body: str, actor: Actor) -> Newsletter:
    """A new issue, written by marketing staff; it goes out only when sent."""
    subject_line, body = subject_line.strip(), body.strip()
    if missing := [
        name for name, value in (("subject_line", subject_line), ("body", body)) if not value
    ]:
        raise ApplicationError("Required fields are empty", {"fields": missing})
    if "\r" in subject_line or "\n" in subject_line or len(subject_line) > 200:
        raise ApplicationError(
            "The subject line is one line of at most 200 characters", {"subject_line": "invalid"}
        )
    newsletter = Newsletter.objects.create(subject_line=subject_line, body=body)
    audit_log(
        code=EventCode.NEWSLETTER_WRITTEN,
        actor=actor,
        purpose=PURPOSE,
        data={"newsletter_id": str(newsletter.pk)},
    )
    return newsletter


@transaction.atomic
def newsletter_send(*, newsletter: Newsletter, actor: Actor = ACTOR) -> int:
    """Queue the issue for its audience, computed now; returns how many were queued."""
    newsletter = Newsletter.objects.select_for_update().get(pk=newsletter.pk)
    if newsletter.sent_at is not None:
        raise ApplicationError("This newsletter was already sent", {"newsletter": "sent"})
    audience = newsletter_audience()
    for signup in audience:
        token = preference_link_issue(subject=signup.subject)
        unsubscribe = _absolute(reverse("comms:unsubscribe", args=[token]))
        preferences = _absolute(reverse("consent:preferences_by_link", args=[token]))
        email_queue(
            subject=signup.subject,
            to=signup.email,
            subject_line=newsletter.subject_line,
            body=(
                f"{newsletter.body}\n\n--\nUnsubscribe with one click: {unsubscribe}\n"
                f"All your privacy choices: {preferences}"
            ),
            kind=OutboundEmail.Kind.MARKETING,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    newsletter.sent_at = timezone.now()
    newsletter.recipients = len(audience)
    newsletter.save(update_fields=["sent_at", "recipients", "updated_at"])
    audit_log(
        code=EventCode.NEWSLETTER_SENT,
        actor=actor,
        purpose=PURPOSE,
        data={"newsletter_id": str(newsletter.pk), "recipients": len(audience)},
    )
    return len(audience)

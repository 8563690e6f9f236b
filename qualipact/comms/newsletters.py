"""Newsletters: double opt-in sign-up, sending to the consenting audience, one-click
unsubscribe (RFC 8058).

The audience of a send is computed at send time by the set-based purpose filter, so
nobody who withdrew, objected, was restricted or erased gets it. Every marketing email
carries `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from qualipact.comms import events
from qualipact.comms.models import Newsletter, NewsletterSignup
from qualipact.comms.services import email_queue
from qualipact.consent.models import Channel, ConsentState, PreferenceToken
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import (
    consent_grant,
    consent_withdraw,
    preference_link_for_mailing,
    preference_link_issue,
)
from qualipact.privacy.addresses import proven_addresses
from qualipact.privacy.audit import Actor
from qualipact.privacy.deferred import deferred_submit
from qualipact.privacy.enforcement import purpose_decide, subjects_for_purpose
from qualipact.privacy.errors import ApplicationError, ProcessingRefused, VaultError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.services import subject_for_email
from qualipact.privacy.tokens import token_hash
from qualipact.web.links import site_url

PURPOSE = "marketing"
# Reasons that only say the person has not consented yet: what a sign-up asks for.
AWAITING_CONSENT = frozenset({"no_consent", "consent_needs_renewal"})
DEFERRED_SIGNUP = "comms.newsletter_signup"
logger = logging.getLogger(__name__)
CONFIRM_DAYS = 7
ACTOR = Actor.system("newsletter")


class InvalidConfirmation(ApplicationError):
    code = "invalid_confirmation"
    status = 404


class WordingChanged(ApplicationError):
    """The form showed other words than those in force: ask again rather than guess."""

    code = "wording_changed"


@transaction.atomic
def newsletter_signup(*, email: str, wording_sha256: str) -> NewsletterSignup | None:
    """Record a sign-up and email a confirmation link; consent waits for the click.

    Whatever happens, the caller answers the same: "check your inbox". When the sign-up
    may not be stored (the address is a child's account, for one), nothing is kept and
    the explanation goes by email to that address, never to the page (returns None).
    """
    wording = consent_wording_current(PURPOSE)
    if wording_sha256 != wording.sha256:
        raise WordingChanged(
            "The newsletter wording changed; please read it again", {"wording": "stale"}
        )
    subject = subject_for_email(email=email, actor=ACTOR)
    # Consent is what the sign-up asks for, so its absence is expected; anything else the
    # purpose check says (a child, a restriction) means nothing may be stored for it.
    reasons = [r for r in purpose_decide(subject, PURPOSE).reasons if r not in AWAITING_CONSENT]
    if reasons:
        _signup_refused_notice(subject=subject, email=email, reasons=reasons)
        return None
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            signup = NewsletterSignup.objects.create(
                subject=subject,
                email=email,
                wording=wording,
                confirmation_hash=token_hash(token),
                confirm_by=timezone.now() + timedelta(days=CONFIRM_DAYS),
            )
    except ProcessingRefused as refused:  # the registry's own rules, as a backstop
        _signup_refused_notice(
            subject=subject, email=email, reasons=refused.extra.get("reasons", [])
        )
        return None
    link = site_url("comms:newsletter_confirm", token)
    email_queue(
        subject=subject,
        to=email,
        subject_line="Please confirm your Qualipact newsletter subscription",
        body=(
            "Someone, hopefully you, asked to receive the Qualipact newsletter at this "
            f"address.\n\nTo confirm, open this link within {CONFIRM_DAYS} days and press "
            f"Confirm:\n{link}\n\nIf it was not you, ignore this email: nothing will be sent."
        ),
        purpose="service_delivery",
    )
    events.newsletter_signup_event(signup=signup)
    return signup


def _signup_refused_notice(*, subject: DataSubject, email: str, reasons: list[str]) -> None:
    """Tell the address, and only the address, why its sign-up was not kept."""
    child = "child" in reasons
    if child:
        why = (
            "This address belongs to a child's account, and we never send newsletters or "
            "marketing to children."
        )
    elif "restricted" in reasons:
        why = (
            "You asked us to restrict the use of your data, so we cannot add you to the "
            "newsletter while the restriction lasts."
        )
    else:
        why = "We cannot add this address to the newsletter."
    email_queue(
        subject=subject,
        to=email,
        subject_line="About your Qualipact newsletter sign-up",
        body=(
            "Someone, perhaps you, asked to receive the Qualipact newsletter at this address.\n\n"
            f"{why} Nothing was stored, and no newsletter will be sent.\n\n"
            "If it was not you, you can ignore this message."
        ),
        purpose="service_delivery",
    )
    events.newsletter_signup_refused_event(subject_id=subject.pk, reasons=reasons)


def newsletter_signup_later(*, email: str, wording_sha256: str) -> None:
    """The sign-up form's service: the wording is checked now, the rest in the background.

    Registering a new subject takes time that a known one does not, so the sign-up itself
    runs in the background (privacy.deferred) and the form answers the same, in the same
    time, for every address. Raises ApplicationError when the wording changed.
    """
    if wording_sha256 != consent_wording_current(PURPOSE).sha256:
        raise WordingChanged(
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
    events.newsletter_confirmed_event(signup=signup)
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


@dataclass(frozen=True)
class Recipient:
    subject: DataSubject
    email: str


def newsletter_audience() -> list[Recipient]:
    """Everyone marketing may reach right now, at an address they proved.

    Consent given on any channel counts (the newsletter form, the preference centre, the
    API); the address is the latest one confirmed for the newsletter (double opt-in), or
    else the person's verified account address (`privacy.addresses`). A person with
    consent but no proven address cannot be written to.
    """
    allowed = list(subjects_for_purpose(DataSubject.objects.order_by("pk"), PURPOSE))
    addresses = proven_addresses([s.pk for s in allowed], prefer=["newsletter"])
    return [Recipient(s, addresses[s.pk]) for s in allowed if s.pk in addresses]


def confirmed_signup_addresses(subject_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The latest address each person confirmed for the newsletter (registered with
    `privacy.addresses` as "newsletter")."""
    latest: dict[uuid.UUID, str] = {}
    confirmed = NewsletterSignup.objects.filter(
        subject_id__in=list(subject_ids), confirmed_at__isnull=False
    ).order_by("confirmed_at")
    for signup in confirmed:
        try:
            latest[signup.subject_id] = signup.email
        except VaultError:  # the key is shredded: nobody to write to
            continue
    return latest


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
    events.newsletter_written_event(newsletter=newsletter, actor=actor)
    return newsletter


@transaction.atomic
def newsletter_send(*, newsletter: Newsletter, actor: Actor = ACTOR) -> int:
    """Queue the issue for its audience, computed now; returns how many were queued."""
    newsletter = Newsletter.objects.select_for_update().get(pk=newsletter.pk)
    if newsletter.sent_at is not None:
        raise ApplicationError("This newsletter was already sent", {"newsletter": "sent"})
    audience = newsletter_audience()
    for recipient in audience:
        token = preference_link_for_mailing(subject=recipient.subject, email=recipient.email)
        unsubscribe = site_url("comms:unsubscribe", token)
        preferences = site_url("consent:preferences_by_link", token)
        email_queue(
            subject=recipient.subject,
            to=recipient.email,
            subject_line=newsletter.subject_line,
            body=(
                f"{newsletter.body}\n\n--\nUnsubscribe with one click: {unsubscribe}\n"
                f"All your privacy choices: {preferences}\n"
                "Offers chosen for you, with your consent: "
                f"{site_url('offers:for_person', token)}"
            ),
            purpose="marketing",
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    newsletter.sent_at = timezone.now()
    newsletter.recipients = len(audience)
    newsletter.save(update_fields=["sent_at", "recipients", "updated_at"])
    events.newsletter_sent_event(newsletter=newsletter, actor=actor, recipients=len(audience))
    return len(audience)


# Fresh links: one at most per person in this time, however often the button is pressed.
FRESH_LINK_PAUSE = timedelta(minutes=10)


@transaction.atomic
def preference_fresh_link_send(*, link: PreferenceToken) -> bool:
    """Email a fresh single-use link to the address `link` (from a bulk mail) was sent to.

    The link from a newsletter only opts out, because the mail may have been forwarded; a
    fresh link, sent to that address alone, may give consent once within a day. Whoever
    presses the button, the fresh link goes only to the mailbox the newsletter went to.
    Returns whether one was sent (the page says the same either way).
    """
    subject = DataSubject.objects.select_for_update().get(pk=link.subject_id)
    if subject.erased_at is not None or not link.email:
        return False
    recent = PreferenceToken.objects.filter(
        subject=subject,
        grants_until__isnull=False,
        created_at__gt=timezone.now() - FRESH_LINK_PAUSE,
    )
    if recent.exists():
        return False
    email = str(link.email)
    token = preference_link_issue(subject=subject, email=email)
    preferences = site_url("consent:preferences_by_link", token)
    offers = site_url("offers:for_person", token)
    email_queue(
        subject=subject,
        to=email,
        subject_line="Your link to give consent",
        body=(
            "Someone, hopefully you, asked for a link to change your Qualipact privacy choices.\n\n"
            "Your privacy choices:\n"
            f"{preferences}\n\nOffers chosen for you:\n{offers}\n\n"
            "For one day these links can also give consent, once; after that they can still "
            "withdraw it. Do not forward this email. If it was not you, ignore it: nothing "
            "changes."
        ),
        purpose="service_delivery",
    )
    events.preference_fresh_link_sent_event(link=link)
    return True

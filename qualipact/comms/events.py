"""The comms app's audit events: one function per event, codes 500-599.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. An email's events carry the purpose it was sent for;
newsletter events are `marketing`. Events hold ids, kinds and counts, never an address
or a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.comms.models import Newsletter, NewsletterSignup, OutboundEmail
    from qualipact.consent.models import PreferenceToken
    from qualipact.privacy.models import AuditEvent

NEWSLETTER_PURPOSE = "marketing"
OUTBOX_ACTOR = Actor.system("comms_outbox")


class CommsCode(IntEnum):
    """Stored codes of the comms app. Never renumber; only add."""

    EMAIL_QUEUED = 500
    EMAIL_SENT = 501
    EMAIL_FAILED = 502
    EMAIL_LEASE_EXPIRED = 503
    NEWSLETTER_SIGNUP = 510
    NEWSLETTER_CONFIRMED = 511
    NEWSLETTER_SENT = 512
    NEWSLETTER_WRITTEN = 513
    NEWSLETTER_SIGNUP_REFUSED = 520
    PREFERENCE_FRESH_LINK_SENT = 521


audit_codes_register(owner="comms", codes=CommsCode, span=range(500, 600))


# -- the outbox ---------------------------------------------------------------------------


def email_queued_event(*, email: OutboundEmail) -> AuditEvent:
    """500: an email was put in the outbox for its purpose."""
    return audit_log(
        code=CommsCode.EMAIL_QUEUED,
        actor=OUTBOX_ACTOR,
        subject_id=email.subject_id,
        purpose=email.purpose,
        data={"email_id": str(email.pk), "kind": email.kind},
    )


def email_sent_event(*, email: OutboundEmail) -> AuditEvent:
    """501: the mail server accepted the email, on attempt `email.attempts`."""
    return audit_log(
        code=CommsCode.EMAIL_SENT,
        actor=OUTBOX_ACTOR,
        subject_id=email.subject_id,
        purpose=email.purpose,
        data={"email_id": str(email.pk), "kind": email.kind, "attempts": email.attempts},
    )


def email_failed_event(
    *, email: OutboundEmail, error: str, reasons: Iterable[str] = ()
) -> AuditEvent:
    """502: the outbox gave up on the email; `error` is a code, `reasons` refusal codes."""
    return audit_log(
        code=CommsCode.EMAIL_FAILED,
        actor=OUTBOX_ACTOR,
        subject_id=email.subject_id,
        purpose=email.purpose,
        data={
            "email_id": str(email.pk),
            "kind": email.kind,
            "attempts": email.attempts,
            "error": error,
            "reasons": list(reasons),
        },
    )


def email_lease_expired_event(
    *, email_id: uuid.UUID, subject_id: uuid.UUID, purpose: str
) -> AuditEvent:
    """503: a worker's claim on the email ran out; it is queued again."""
    return audit_log(
        code=CommsCode.EMAIL_LEASE_EXPIRED,
        actor=OUTBOX_ACTOR,
        subject_id=subject_id,
        purpose=purpose,
        data={"email_id": str(email_id)},
    )


# -- newsletters --------------------------------------------------------------------------


def newsletter_signup_event(*, signup: NewsletterSignup) -> AuditEvent:
    """510: a sign-up waits for the person to confirm it (double opt-in)."""
    return audit_log(
        code=CommsCode.NEWSLETTER_SIGNUP,
        actor=Actor.subject(signup.subject_id),
        subject_id=signup.subject_id,
        purpose=NEWSLETTER_PURPOSE,
        data={"signup_id": str(signup.pk)},
    )


def newsletter_confirmed_event(*, signup: NewsletterSignup) -> AuditEvent:
    """511: the person confirmed the sign-up from the link we emailed."""
    return audit_log(
        code=CommsCode.NEWSLETTER_CONFIRMED,
        actor=Actor.subject(signup.subject_id),
        subject_id=signup.subject_id,
        purpose=NEWSLETTER_PURPOSE,
        data={"signup_id": str(signup.pk)},
    )


def newsletter_signup_refused_event(*, subject_id: uuid.UUID, reasons: Iterable[str]) -> AuditEvent:
    """520: a sign-up was refused (`reasons`: purpose-refusal codes) and the person told."""
    return audit_log(
        code=CommsCode.NEWSLETTER_SIGNUP_REFUSED,
        actor=Actor.subject(subject_id),
        subject_id=subject_id,
        purpose=NEWSLETTER_PURPOSE,
        data={"reasons": sorted(set(reasons)) or ["refused"]},
    )


def newsletter_written_event(*, newsletter: Newsletter, actor: Actor) -> AuditEvent:
    """513: staff wrote an issue."""
    return audit_log(
        code=CommsCode.NEWSLETTER_WRITTEN,
        actor=actor,
        purpose=NEWSLETTER_PURPOSE,
        data={"newsletter_id": str(newsletter.pk)},
    )


def newsletter_sent_event(*, newsletter: Newsletter, actor: Actor, recipients: int) -> AuditEvent:
    """512: an issue was queued for `recipients` people."""
    return audit_log(
        code=CommsCode.NEWSLETTER_SENT,
        actor=actor,
        purpose=NEWSLETTER_PURPOSE,
        data={"newsletter_id": str(newsletter.pk), "recipients": recipients},
    )


def preference_fresh_link_sent_event(*, link: PreferenceToken) -> AuditEvent:
    """521: a fresh preference link (one that may grant) was emailed for the bulk `link`."""
    return audit_log(
        code=CommsCode.PREFERENCE_FRESH_LINK_SENT,
        actor=Actor.subject(link.subject_id),
        subject_id=link.subject_id,
        purpose="service_delivery",
        data={"link_id": str(link.pk)},
    )

"""Writes of consent: each grant, withdrawal and objection is a ledger event plus the
current state, in one transaction with its audit event."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from qualipact.consent import events
from qualipact.consent.models import (
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentWording,
    PreferenceToken,
)
from qualipact.consent.selectors import PreferenceAccess, consent_wording_current
from qualipact.consent.signals import SIGNAL_OPT_OUT_PURPOSES
from qualipact.notices.selectors import policy_current_version
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.purposes import LegalBasis, purpose_get
from qualipact.privacy.tokens import token_hash


def _purpose_with_basis(code: str, basis: LegalBasis, action: str) -> None:
    try:
        purpose = purpose_get(code)
    except KeyError:
        raise ApplicationError(
            f"Unknown purpose '{code}'", {"purpose": "unknown"}, public="Unknown purpose"
        ) from None
    if purpose.legal_basis is not basis:
        raise ApplicationError(
            f"Cannot {action} for '{code}': its legal basis is {purpose.legal_basis}",
            {"purpose": code, "legal_basis": str(purpose.legal_basis)},
            public=f"This choice is not available for {purpose.label}",
        )


def _record(
    *,
    subject: DataSubject,
    purpose: str,
    action: ConsentEvent.Action,
    channel: str,
    wording: ConsentWording | None,
    actor: Actor,
    audit_event: Callable[..., AuditEvent],
    **state: object,
) -> ConsentEvent:
    if channel not in Channel.values:
        raise ApplicationError(f"Unknown consent channel '{channel}'", {"channel": "unknown"})
    event = ConsentEvent(
        subject=subject,
        purpose=purpose,
        action=action,
        channel=channel,
        policy_version=policy_current_version(),
        wording=wording,
        occurred_at=timezone.now(),
    )
    event.save()
    current, _ = ConsentState.objects.select_for_update().get_or_create(
        subject=subject, purpose=purpose
    )
    for name, value in state.items():
        setattr(current, name, value)
    current.save()
    audit_event(event=event, actor=actor)
    return event


@transaction.atomic
def consent_grant(
    *,
    subject: DataSubject,
    purpose: str,
    channel: str,
    actor: Actor,
    wording: ConsentWording | None = None,
) -> ConsentEvent:
    """Record consent to a consent-based purpose under the wording the person was shown."""
    _purpose_with_basis(purpose, LegalBasis.CONSENT, "give consent")
    wording = wording or consent_wording_current(purpose)
    if wording.purpose != purpose:
        raise ApplicationError("The wording shown belongs to another purpose")
    return _record(
        subject=subject,
        purpose=purpose,
        action=ConsentEvent.Action.GRANT,
        channel=channel,
        wording=wording,
        actor=actor,
        audit_event=events.consent_granted_event,
        granted=True,
        wording_id=wording.pk,
    )


@transaction.atomic
def consent_withdraw(
    *, subject: DataSubject, purpose: str, channel: str, actor: Actor
) -> ConsentEvent:
    """Withdraw consent: from this moment on, processing for the purpose is refused."""
    _purpose_with_basis(purpose, LegalBasis.CONSENT, "withdraw consent")
    return _record(
        subject=subject,
        purpose=purpose,
        action=ConsentEvent.Action.WITHDRAW,
        channel=channel,
        wording=None,
        actor=actor,
        audit_event=events.consent_withdrawn_event,
        granted=False,
    )


@transaction.atomic
def objection_record(
    *, subject: DataSubject, purpose: str, channel: str, actor: Actor
) -> ConsentEvent:
    """Art 21: stop a legitimate-interest purpose for this person."""
    _purpose_with_basis(purpose, LegalBasis.LEGITIMATE_INTEREST, "object")
    return _record(
        subject=subject,
        purpose=purpose,
        action=ConsentEvent.Action.OBJECT,
        channel=channel,
        wording=None,
        actor=actor,
        audit_event=events.objection_recorded_event,
        objected=True,
    )


@transaction.atomic
def objection_withdraw(
    *, subject: DataSubject, purpose: str, channel: str, actor: Actor
) -> ConsentEvent:
    _purpose_with_basis(purpose, LegalBasis.LEGITIMATE_INTEREST, "withdraw an objection")
    return _record(
        subject=subject,
        purpose=purpose,
        action=ConsentEvent.Action.OBJECTION_WITHDRAWN,
        channel=channel,
        wording=None,
        actor=actor,
        audit_event=events.objection_withdrawn_event,
        objected=False,
    )


@transaction.atomic
def consent_wording_publish(
    *, purpose: str, text: str, policy_version: int, material: bool, actor: Actor
) -> ConsentWording:
    """Publish new words for a consent purpose.

    A material change (`material=True`) means consent given under older words no
    longer counts: silence is never consent (Recital 32), so those people must renew.
    """
    _purpose_with_basis(purpose, LegalBasis.CONSENT, "publish consent wording")
    digest = hashlib.sha256(f"{purpose}\n{text}".encode()).hexdigest()
    wording, created = ConsentWording.objects.get_or_create(
        sha256=digest,
        defaults={
            "purpose": purpose,
            "text": text,
            "policy_version": policy_version,
            "requires_renewal": material,
        },
    )
    if not created:
        raise ApplicationError("This wording is already published", {"wording": digest[:12]})
    events.consent_wording_published_event(
        purpose=purpose,
        digest=digest,
        material=material,
        policy_version=policy_version,
        actor=actor,
    )
    return wording


@transaction.atomic
def browser_signal_record(*, subject: DataSubject) -> list[str]:
    """Record a signed-in person's GPC / DNT signal on their account as an opt-out.

    The signal is written once per purpose it covers (a withdrawal for the consent
    purposes, an objection for analytics). After that only the person's explicit
    choices change the state, so a later grant made knowingly is respected, and the
    signal is never read as consent. Returns the purposes recorded now.
    """
    already = set(
        ConsentEvent.objects.filter(
            subject=subject, purpose__in=SIGNAL_OPT_OUT_PURPOSES, channel=Channel.BROWSER_SIGNAL
        ).values_list("purpose", flat=True)
    )
    recorded = []
    for purpose in sorted(SIGNAL_OPT_OUT_PURPOSES - already):
        change = (
            consent_withdraw
            if purpose_get(purpose).legal_basis is LegalBasis.CONSENT
            else objection_record
        )
        change(
            subject=subject,
            purpose=purpose,
            channel=Channel.BROWSER_SIGNAL,
            actor=Actor.subject(subject.pk),
        )
        recorded.append(purpose)
    return recorded


# How long a fresh link may give consent (once); after that it only opts out.
FRESH_LINK_HOURS = 24


# Actions that let processing start (again): giving consent, taking back an objection.
GRANTING_ACTIONS = frozenset({"grant", "withdraw_objection"})


class FreshLinkRequired(ApplicationError):
    """A link from a bulk mail (or a fresh one already used or past its time) tried to
    give consent: a forwarded mail must never consent for the person it was sent to."""

    code = "fresh_link_required"
    status = 403


def _bulk_token(link_id: uuid.UUID) -> str:
    """A bulk link's token, derived from its row under the server's HMAC key (the vault's
    blind-index key, in a scope of its own), so that nothing secret is stored and every
    mailing can carry the same link."""
    return vault.blind_index("preference_link", str(link_id))


@transaction.atomic
def preference_link_for_mailing(*, subject: DataSubject, email: str) -> str:
    """The person's link for bulk mail to this address: it may withdraw and object, never
    give consent, and works for as long as the person exists (RFC 8058 asks an unsubscribe
    link to keep working). Every mailing to the same address reuses it."""
    email = email.strip()
    existing = (
        PreferenceToken.objects.select_for_update()
        .filter(
            subject=subject,
            email_index=vault.blind_index("email", email),
            grants_until__isnull=True,
        )
        .order_by("-created_at")
    )
    for link in existing:
        token = _bulk_token(link.pk)
        if link.token_hash == token_hash(token):  # links from before were random
            link.save(update_fields=["updated_at"])  # one more mail carries it
            return token
    link_id = uuid.uuid4()
    token = _bulk_token(link_id)
    PreferenceToken.objects.create(
        id=link_id, subject=subject, token_hash=token_hash(token), email=email
    )
    return token


@transaction.atomic
def preference_link_issue(
    *, subject: DataSubject, email: str | None = None, hours: int = FRESH_LINK_HOURS
) -> str:
    """A fresh link for one person, sent to them alone: for `hours` it may also give
    consent, once. Only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    PreferenceToken.objects.create(
        subject=subject,
        token_hash=token_hash(token),
        grants_until=timezone.now() + timedelta(hours=hours),
        email=email.strip() if email else None,
    )
    return token


def _fresh_link_grant_use(link: PreferenceToken) -> None:
    """Spend a fresh link's one consent, or refuse: checked on the locked row."""
    locked = PreferenceToken.objects.select_for_update().get(pk=link.pk)
    now = timezone.now()
    if not locked.may_grant(now):
        raise FreshLinkRequired(
            "This link may only withdraw consent or object",
            {"link": "opt_out_only"},
        )
    locked.granted_at = now
    locked.save(update_fields=["granted_at", "updated_at"])
    link.granted_at = now


@transaction.atomic
def preference_change(
    *,
    access: PreferenceAccess,
    purpose: str,
    action: str,
    channel: str,
    actor: Actor,
    wording_sha256: str = "",
) -> ConsentEvent:
    """One choice from the preference centre (page or API), by action name.

    Withdrawing and objecting are open to every holder of the person's link. Giving
    consent needs the person's own signed-in session or a fresh link, used once: this is
    the one place that rule is kept, for every page and API that changes consent.
    """
    changes = {
        "withdraw": consent_withdraw,
        "object": objection_record,
        "withdraw_objection": objection_withdraw,
    }
    if action != "grant" and action not in changes:
        raise ApplicationError(
            f"Unknown action '{action}'", {"action": "unknown"}, public="Unknown action"
        )
    wording = None
    if action == "grant" and wording_sha256:
        wording = ConsentWording.objects.filter(sha256=wording_sha256).first()
        if wording is None:
            raise ApplicationError(
                "Unknown consent wording", {"wording": "unknown"}, public="Unknown consent wording"
            )
    if action in GRANTING_ACTIONS and access.link is not None:
        _fresh_link_grant_use(access.link)
    if action == "grant":
        return consent_grant(
            subject=access.subject, purpose=purpose, channel=channel, actor=actor, wording=wording
        )
    return changes[action](subject=access.subject, purpose=purpose, channel=channel, actor=actor)

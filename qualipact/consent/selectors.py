"""Reads of consent: current wordings, a person's state and history, renewal floors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils import timezone

from qualipact.consent.models import ConsentEvent, ConsentState, ConsentWording, PreferenceToken
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import BASIS_IN_PLAIN_WORDS, PURPOSES, LegalBasis, Purpose


def consent_wording_current(purpose: str) -> ConsentWording:
    wording = ConsentWording.objects.filter(purpose=purpose).order_by("-id").first()
    if wording is None:
        raise ApplicationError(f"No consent wording is published for '{purpose}'")
    return wording


def renewal_floor(purpose: str) -> int | None:
    """Grants under a wording older than this id no longer count (a material change)."""
    return (
        ConsentWording.objects.filter(purpose=purpose, requires_renewal=True)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PurposeChoice:
    """One line of the preference centre."""

    purpose: Purpose
    basis_in_plain_words: str
    granted: bool
    objected: bool
    needs_renewal: bool
    wording: ConsentWording | None

    @property
    def is_consent(self) -> bool:
        return self.purpose.legal_basis is LegalBasis.CONSENT

    @property
    def can_object(self) -> bool:
        return self.purpose.legal_basis is LegalBasis.LEGITIMATE_INTEREST

    @property
    def active(self) -> bool:
        if self.is_consent:
            return self.granted and not self.needs_renewal
        return not self.objected


def consent_overview(subject: DataSubject) -> list[PurposeChoice]:
    """Every purpose with its basis in plain words and this person's current state."""
    states = {s.purpose: s for s in ConsentState.objects.filter(subject=subject)}
    wordings = {
        w.purpose: w for w in ConsentWording.objects.order_by("purpose", "id")
    }  # the last one per purpose wins: the current wording
    floors = dict(
        ConsentWording.objects.filter(requires_renewal=True)
        .order_by("purpose", "id")
        .values_list("purpose", "id")
    )
    choices = []
    for purpose in PURPOSES.values():
        state = states.get(purpose.code)
        granted = bool(state and state.granted)
        floor = floors.get(purpose.code)
        stale = bool(granted and floor and state and (state.wording_id or 0) < floor)
        choices.append(
            PurposeChoice(
                purpose=purpose,
                basis_in_plain_words=BASIS_IN_PLAIN_WORDS[purpose.legal_basis],
                granted=granted,
                objected=bool(state and state.objected),
                needs_renewal=stale,
                wording=wordings.get(purpose.code),
            )
        )
    return choices


def consent_history(subject: DataSubject) -> list[ConsentEvent]:
    return list(
        ConsentEvent.objects.filter(subject=subject)
        .select_related("wording")
        .order_by("occurred_at")
    )


def preference_subject(token: str) -> DataSubject:
    """The person a preference link belongs to; a clear error for a bad or expired link."""
    link = (
        PreferenceToken.objects.select_related("subject")
        .filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
        .first()
    )
    if link is None or link.subject.erased_at is not None:
        raise InvalidLink("This link is invalid or has expired.", {"link": "invalid"})
    return link.subject


class InvalidLink(ApplicationError):
    code = "invalid_link"
    status = 401


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

"""Reads of consent: current wordings, a person's state and history, renewal floors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from qualipact.consent.models import ConsentEvent, ConsentState, ConsentWording, PreferenceToken
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.periods import period_index, periods_range
from qualipact.privacy.purposes import BASIS_IN_PLAIN_WORDS, PURPOSES, LegalBasis, Purpose
from qualipact.privacy.tokens import token_hash


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


@dataclass(frozen=True)
class PreferenceAccess:
    """Who is making choices, and by what right: their own signed-in session (`link` is
    None), or a link from an email, which may give consent only while fresh (see
    `PreferenceToken`)."""

    subject: DataSubject
    link: PreferenceToken | None = None

    @property
    def may_grant(self) -> bool:
        return self.link is None or self.link.may_grant(timezone.now())

    @property
    def is_fresh(self) -> bool:
        """May also store what the person gives (interests, a location) and see it."""
        return self.link is None or self.link.is_fresh(timezone.now())


def preference_link(token: str) -> PreferenceToken:
    """The link a token belongs to; a clear error for a bad link or an erased person.

    Links never expire for opting out: only a fresh link's right to give consent does.
    """
    link = (
        PreferenceToken.objects.select_related("subject")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None or link.subject.erased_at is not None:
        raise InvalidLink("This link is not valid.", {"link": "invalid"})
    return link


def preference_access(token: str) -> PreferenceAccess:
    link = preference_link(token)
    return PreferenceAccess(subject=link.subject, link=link)


def preference_subject(token: str) -> DataSubject:
    """The person a preference link belongs to; a clear error for a bad link."""
    return preference_link(token).subject


class InvalidLink(ApplicationError):
    code = "invalid_link"
    status = 401


# -- aggregates for the DPO dashboard (counts only: no person, no row) --------------------


def consent_changes_by_period(
    *, starts: Sequence[datetime], end: datetime
) -> dict[tuple[str, str], list[int]]:
    """Grants and withdrawals recorded in the ledger in each period `[starts[i],
    starts[i + 1])`, the last ending at `end` (weeks, in the DPO dashboard), per purpose
    code and action ("grant" or "withdraw"): {(purpose, action): [count per period]}.
    Pairs without any event are absent. One GROUP BY query. Objections are the objection
    register's and not counted here."""
    period = period_index("occurred_at", starts, end)
    rows = (
        ConsentEvent.objects.order_by()
        .filter(
            periods_range("occurred_at", starts, end),
            action__in=(ConsentEvent.Action.GRANT, ConsentEvent.Action.WITHDRAW),
        )
        .annotate(period=period)
        .values_list("purpose", "action", "period")
        .annotate(events=Count("pk"))
    )
    counts: dict[tuple[str, str], list[int]] = {}
    for purpose, action, index, events in rows:
        counts.setdefault((purpose, action), [0] * len(starts))[index] = events
    return counts

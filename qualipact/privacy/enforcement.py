"""Purpose enforcement: may we process this person's data for this purpose, now?

One place answers it, in two forms that always agree:
- per person: `may_process(subject, purpose)` / `purpose_require(...)` (raises); the
  person may be None, an anonymous visitor nobody knows (see `purpose_decide`);
- set-based: `subjects_for_purpose(queryset, purpose)`, one SQL query for any audience.

The answer comes from rules. The core rules cover erased subjects, restriction of
processing (Art 18) and the consent-based purposes, which are refused until an app
registers a consent rule (the consent ledger) under the name "consent".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db import models
from django.db.models import Q

from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import LegalBasis, Purpose, purpose_get

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Only:
    """A rule's set form when few are allowed: only subjects matching `q` may be processed.

    Written positively (for example "has a current grant") so the database can start
    from the allowed few through an index instead of testing every subject.
    """

    q: Q


# A rule's set form: Q over DataSubject matching the refused subjects, Only(q) for
# "allowed only if q", True for "refuse everyone", or None for "refuse nobody".
Exclusion = Q | Only | bool | None


class Rule(Protocol):
    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        """A stable reason code when this subject may not be processed, else None."""

    def exclusion(self, purpose: Purpose) -> Exclusion:
        """The same decision for every subject at once."""


class ErasedRule:
    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        return "erased" if subject.erased_at is not None else None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        return Q(erased_at__isnull=False)


class RestrictionRule:
    """Art 18: a restricted subject's data is only stored, except for legal claims."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if subject.restricted_at is not None and not purpose.allowed_when_restricted:
            return "restricted"
        return None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        return None if purpose.allowed_when_restricted else Q(restricted_at__isnull=False)


class NoConsentRecordedRule:
    """Until a consent ledger is registered, nobody has consented to anything."""

    def holders(self, purpose: Purpose) -> Q | None:
        return None

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        return "no_consent" if purpose.legal_basis is LegalBasis.CONSENT else None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        return purpose.legal_basis is LegalBasis.CONSENT


_rules: dict[str, Rule] = {
    "erased": ErasedRule(),
    "restriction": RestrictionRule(),
    "consent": NoConsentRecordedRule(),
}


def rule_register(name: str, rule: Rule) -> None:
    """Add a rule, or replace the one of that name (the consent app replaces "consent")."""
    _rules[name] = rule


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...] = ()


def purpose_decide(subject: DataSubject | None, purpose: str) -> Decision:
    """The decision for one person, or for an anonymous visitor (`subject` None).

    A visitor is nobody we hold a row about: the set form decides for them. A rule that
    refuses everyone (True) refuses them, and so does one that allows only people who
    hold something (`Only`, such as a consent grant); a rule that refuses some (a `Q`:
    erased, restricted, objected) does not. Their reasons are the rules' names.
    """
    resolved = purpose_get(purpose)
    if subject is None:
        reasons = tuple(
            name
            for name, rule in _rules.items()
            if (exclusion := rule.exclusion(resolved)) is True or isinstance(exclusion, Only)
        )
    else:
        reasons = tuple(
            reason for rule in _rules.values() if (reason := rule.refusal(subject, resolved))
        )
    return Decision(allowed=not reasons, reasons=reasons)


def may_process(subject: DataSubject | None, purpose: str) -> bool:
    return purpose_decide(subject, purpose).allowed


def purpose_require(subject: DataSubject | None, purpose: str) -> None:
    decision = purpose_decide(subject, purpose)
    if not decision.allowed:
        whom = f"subject {subject.pk}" if subject is not None else "a visitor"
        raise ProcessingRefused(
            f"Processing {whom} for purpose '{purpose}' is refused: " + ", ".join(decision.reasons),
            {"purpose": purpose, "reasons": list(decision.reasons)},
        )


def allowed_subjects_q(purpose: str) -> Q | None:
    """Q over DataSubject for those who may be processed; None when nobody may."""
    resolved = purpose_get(purpose)
    refused = Q()
    required = Q()
    for rule in _rules.values():
        exclusion = rule.exclusion(resolved)
        if exclusion is True:
            return None
        if isinstance(exclusion, Only):
            required &= exclusion.q
        elif isinstance(exclusion, Q):
            refused |= exclusion
    return required & ~refused if refused else required


def subjects_for_purpose(
    queryset: models.QuerySet[M], purpose: str, *, subject_field: str = "subject"
) -> models.QuerySet[M]:
    """Filter any queryset of DataSubject, or of a model with a `subject` key, to the allowed."""
    allowed = allowed_subjects_q(purpose)
    if allowed is None:
        return queryset.none()
    if queryset.model is DataSubject:
        return queryset.filter(allowed)
    return queryset.filter(
        **{f"{subject_field}__in": DataSubject.objects.filter(allowed).values("pk")}
    )


def consent_holders_q(purpose: str) -> Q | None:
    """Q over DataSubject for the people holding a consent grant for a purpose on
    consent, whatever else refuses them: a restricted person keeps their grant, and so
    their data (Art 18 means "store, do nothing else"), and so does one whose grant
    waits for renewal under new wording (processing waits; the data is kept until they
    renew, withdraw, or its period ends). None when nobody holds one. Used by retention:
    data kept on consent goes once the grant is gone (Art 17(1)(b)). The registered
    "consent" rule answers through its `holders(purpose)`."""
    rule = _rules["consent"]
    holders = getattr(rule, "holders", None)
    if holders is not None:
        found: Q | None = holders(purpose_get(purpose))
        return found
    exclusion = rule.exclusion(purpose_get(purpose))
    if exclusion is True:
        return None
    if isinstance(exclusion, Only):
        return exclusion.q
    if isinstance(exclusion, Q):
        return ~exclusion
    return Q()  # nobody refused

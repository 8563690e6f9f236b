"""Purpose-enforcement rules backed by the consent ledger, objections and browser signals.

Registered into `qualipact.privacy.enforcement` at start-up; the "consent" rule
replaces the core's refuse-everything placeholder.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from qualipact.consent import signals
from qualipact.consent.models import ConsentState
from qualipact.consent.selectors import renewal_floor
from qualipact.privacy import enforcement
from qualipact.privacy.enforcement import Exclusion
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import LegalBasis, Purpose


class ConsentLedgerRule:
    """Consent-based purposes need a current grant under a wording still in force."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        state = (
            ConsentState.objects.filter(subject_id=subject.pk, purpose=purpose.code)
            .values_list("granted", "wording_id")
            .first()
        )
        if state is None or not state[0]:
            return "no_consent"
        floor = renewal_floor(purpose.code)
        if floor is not None and (state[1] or 0) < floor:
            return "consent_needs_renewal"
        return None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        grants = ConsentState.objects.filter(
            subject=OuterRef("pk"), purpose=purpose.code, granted=True
        )
        floor = renewal_floor(purpose.code)
        if floor is not None:
            grants = grants.filter(wording_id__gte=floor)
        return ~Q(Exists(grants))


class ObjectionRule:
    """Art 21: an objection stops a legitimate-interest purpose for that person."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.legal_basis is not LegalBasis.LEGITIMATE_INTEREST:
            return None
        objected = ConsentState.objects.filter(
            subject_id=subject.pk, purpose=purpose.code, objected=True
        ).exists()
        return "objected" if objected else None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        if purpose.legal_basis is not LegalBasis.LEGITIMATE_INTEREST:
            return None
        return Q(
            Exists(
                ConsentState.objects.filter(
                    subject=OuterRef("pk"), purpose=purpose.code, objected=True
                )
            )
        )


class BrowserSignalRule:
    """GPC / DNT on the current request: no ads, sharing or analytics while handling it."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.code in signals.SIGNAL_OPT_OUT_PURPOSES and (
            signals.current_request_opted_out()
        ):
            return "browser_signal"
        return None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        return bool(
            purpose.code in signals.SIGNAL_OPT_OUT_PURPOSES and signals.current_request_opted_out()
        )


def register() -> None:
    enforcement.rule_register("consent", ConsentLedgerRule())
    enforcement.rule_register("objection", ObjectionRule())
    enforcement.rule_register("browser_signal", BrowserSignalRule())

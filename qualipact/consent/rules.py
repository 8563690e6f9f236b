"""Purpose-enforcement rules backed by the consent ledger, objections and browser signals.

Registered into `qualipact.privacy.enforcement` at start-up; the "consent" rule
replaces the core's refuse-everything placeholder.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Exists, OuterRef, Q

from qualipact.consent import signals
from qualipact.consent.models import ConsentState, ConsentWording
from qualipact.consent.selectors import renewal_floor
from qualipact.privacy import enforcement
from qualipact.privacy.enforcement import Exclusion, Only
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import LegalBasis, Purpose


class ConsentLedgerRule:
    """Consent-based purposes need a current grant under a wording still in force."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        state = _consent_state(subject.pk, purpose.code)
        if state is None or not state[0]:
            return "no_consent"
        _, wording_id, floor_id = state
        if floor_id is not None and (wording_id or 0) < floor_id:
            return "consent_needs_renewal"
        return None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        grant = Q(consent_states__purpose=purpose.code, consent_states__granted=True)
        floor = renewal_floor(purpose.code)
        if floor is not None:
            grant &= Q(consent_states__wording_id__gte=floor)
        # A join the database can start from the grants (an index range) rather than
        # testing every subject; (subject, purpose) is unique, so no row repeats.
        return Only(grant)

    def holders(self, purpose: Purpose) -> Q | None:
        """Everyone holding a grant, under any wording (one awaiting renewal included):
        whose data kept on consent is kept (`enforcement.consent_holders_q`)."""
        return Q(consent_states__purpose=purpose.code, consent_states__granted=True)


def _consent_state(subject_id: object, purpose: str) -> tuple[bool, int | None, int | None] | None:
    """(granted, wording id, renewal floor) of one person and purpose, in one statement.

    This is the per-person check every feature makes, so it skips the ORM's query
    compiler (several times the cost of the query itself) for one plain statement.
    """
    connection = connections[router.db_for_read(ConsentState)]
    quote = connection.ops.quote_name
    states, wordings = ConsentState._meta.db_table, ConsentWording._meta.db_table
    sql = (
        f"SELECT s.granted, s.wording_id, (SELECT MAX(w.id) FROM {quote(wordings)} w"  # noqa: S608
        f" WHERE w.purpose = %s AND w.requires_renewal)"
        f" FROM {quote(states)} s WHERE s.subject_id = %s AND s.purpose = %s"
    )
    subject_value = DataSubject._meta.pk.get_db_prep_value(subject_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [purpose, subject_value, purpose])
        row = cursor.fetchone()
    return None if row is None else (bool(row[0]), row[1], row[2])


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

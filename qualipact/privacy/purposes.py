"""The purposes of the privacy policy, each with exactly one legal basis (GDPR Art 6(1))."""

from dataclasses import dataclass
from enum import StrEnum


class LegalBasis(StrEnum):
    CONSENT = "consent"  # Art 6(1)(a)
    CONTRACT = "contract"  # Art 6(1)(b)
    LEGAL_OBLIGATION = "legal_obligation"  # Art 6(1)(c)
    VITAL_INTERESTS = "vital_interests"  # Art 6(1)(d)
    PUBLIC_TASK = "public_task"  # Art 6(1)(e)
    LEGITIMATE_INTEREST = "legitimate_interest"  # Art 6(1)(f)


BASIS_IN_PLAIN_WORDS = {
    LegalBasis.CONSENT: "You agreed to it and can withdraw at any time.",
    LegalBasis.CONTRACT: "We need it to provide the service you asked for.",
    LegalBasis.LEGAL_OBLIGATION: "The law requires us to.",
    LegalBasis.VITAL_INTERESTS: "It protects someone's life.",
    LegalBasis.PUBLIC_TASK: "It is a task in the public interest.",
    LegalBasis.LEGITIMATE_INTEREST: "Our legitimate interest, which you may object to.",
}


@dataclass(frozen=True)
class Purpose:
    code: str
    label: str
    legal_basis: LegalBasis
    # Art 18(2): still allowed while processing is restricted.
    allowed_when_restricted: bool = False


PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        Purpose("service_delivery", "Service delivery and account management", LegalBasis.CONTRACT),
        Purpose(
            "customer_support", "Customer support and answering inquiries", LegalBasis.CONTRACT
        ),
        Purpose(
            "service_notifications",
            "Service notifications",
            LegalBasis.LEGITIMATE_INTEREST,
        ),
        Purpose("marketing", "Newsletters and marketing", LegalBasis.CONSENT),
        Purpose(
            "personalised_offers", "Personalised offers and recommendations", LegalBasis.CONSENT
        ),
        Purpose("personalised_ads", "Personalised advertising", LegalBasis.CONSENT),
        Purpose("location_features", "Location-based features", LegalBasis.CONSENT),
        Purpose("partner_sharing", "Sharing with business partners", LegalBasis.CONSENT),
        Purpose(
            "security",
            "Security and fraud prevention",
            LegalBasis.LEGITIMATE_INTEREST,
        ),
        Purpose(
            "legal_compliance",
            "Legal compliance and obligations",
            LegalBasis.LEGAL_OBLIGATION,
            allowed_when_restricted=True,
        ),
        Purpose(
            "legal_claims",
            "Establishing, exercising or defending legal claims",
            LegalBasis.LEGITIMATE_INTEREST,
            allowed_when_restricted=True,
        ),
        Purpose("analytics", "Aggregated analytics (opt-out)", LegalBasis.LEGITIMATE_INTEREST),
        Purpose("research", "Research on anonymised data", LegalBasis.LEGITIMATE_INTEREST),
        Purpose(
            "data_subject_rights",
            "Answering requests about your rights",
            LegalBasis.LEGAL_OBLIGATION,
            allowed_when_restricted=True,
        ),
    )
}


def purpose_get(code: str) -> Purpose:
    try:
        return PURPOSES[code]
    except KeyError:
        raise KeyError(f"Unknown purpose {code!r}; known: {', '.join(sorted(PURPOSES))}") from None

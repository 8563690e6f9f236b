"""The countries a person can say they live in, with their age of digital consent.

One table for the whole site: every EU and EEA state (the 27 EU members, Iceland,
Liechtenstein and Norway), the UK, the US and "Another country". The sign-up's age
gate, the contact form and an appeal list these countries; the age rule
(`accounts.age`) reads their ages; every country but "Another country" has its
supervisory authority in `privacy.authorities`, and "Another country" is told of the
EDPB's list of every authority instead. GDPR Art 8(1) lets each member state set the
age below which a parent must consent to an information-society service between 13 and
16 (EEA states alike, through the EEA Agreement); the UK (UK GDPR Art 8) and the US
(COPPA) use 13. A country without an age here ("Another country") gets the configured
default age (`accounts.age`). Plain data: settings import it, so it imports nothing of
Django.
"""

from __future__ import annotations

from dataclasses import dataclass

# The code of "Another country" (ISO 3166-1 reserves ZZ for user-assigned use).
ANOTHER_COUNTRY = "ZZ"


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2; ANOTHER_COUNTRY for any other country
    name: str  # as a person reads it, in the list they choose from
    digital_consent_age: int | None  # years (Art 8(1)); None: the configured default


# In the order the sign-up lists them: by name, then "Another country" last.
# Iceland and Norway chose 13, Liechtenstein kept the GDPR's 16.
COUNTRIES: tuple[Country, ...] = (
    Country("AT", "Austria", 14),
    Country("BE", "Belgium", 13),
    Country("BG", "Bulgaria", 14),
    Country("HR", "Croatia", 16),
    Country("CY", "Cyprus", 14),
    Country("CZ", "Czechia", 15),
    Country("DK", "Denmark", 13),
    Country("EE", "Estonia", 13),
    Country("FI", "Finland", 13),
    Country("FR", "France", 15),
    Country("DE", "Germany", 16),
    Country("GR", "Greece", 15),
    Country("HU", "Hungary", 16),
    Country("IS", "Iceland", 13),
    Country("IE", "Ireland", 16),
    Country("IT", "Italy", 14),
    Country("LV", "Latvia", 13),
    Country("LI", "Liechtenstein", 16),
    Country("LT", "Lithuania", 14),
    Country("LU", "Luxembourg", 16),
    Country("MT", "Malta", 13),
    Country("NL", "Netherlands", 16),
    Country("NO", "Norway", 13),
    Country("PL", "Poland", 16),
    Country("PT", "Portugal", 13),
    Country("RO", "Romania", 16),
    Country("SK", "Slovakia", 16),
    Country("SI", "Slovenia", 15),
    Country("ES", "Spain", 14),
    Country("SE", "Sweden", 13),
    Country("GB", "United Kingdom", 13),
    Country("US", "United States", 13),
    Country(ANOTHER_COUNTRY, "Another country", None),
)


def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs for a form's choice list, in the table's order."""
    return [(country.code, country.name) for country in COUNTRIES]


def digital_consent_ages() -> dict[str, int]:
    """{code: age in years} for every country whose law sets one."""
    return {
        country.code: country.digital_consent_age
        for country in COUNTRIES
        if country.digital_consent_age is not None
    }

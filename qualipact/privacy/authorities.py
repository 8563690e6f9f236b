"""The data protection supervisory authorities a person may complain to, by country.

GDPR Art 12(4) and Art 77: a person whose request we refuse is told they may complain
to a supervisory authority, in particular in the member state where they live or work.
This table names the authority of each EU and EEA state (the members of the European
Data Protection Board), the UK's Information Commissioner's Office (UK GDPR) and the
California Privacy Protection Agency (CCPA, Cal. Civ. Code §1798.199.10). Germany has
an authority per Land besides the federal one: the federal commissioner's site lists
them. Keyed by the codes of `privacy.countries`, the one list of countries a person
chooses from: each of its countries but "Another country" has its authority here, and
each authority here is for one of its countries (`contact/tests/test_countries.py`).
Plain data, like `privacy.countries`: it imports nothing of Django.
"""

from __future__ import annotations

from dataclasses import dataclass

# The EDPB's list of its members: every EU/EEA supervisory authority with its address.
EDPB_MEMBERS_URL = "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en"


@dataclass(frozen=True)
class Authority:
    country: str  # ISO 3166-1 alpha-2 of where it is competent ("US": California only)
    name: str  # as the authority names itself in English where it does
    url: str  # its public web address, where complaints are explained
    area: str = ""  # where it is competent, when narrower than the country


AUTHORITIES: tuple[Authority, ...] = (
    Authority(
        "AT", "Austrian Data Protection Authority (Datenschutzbehörde)", "https://www.dsb.gv.at"
    ),
    Authority("BE", "Belgian Data Protection Authority", "https://www.dataprotectionauthority.be"),
    Authority("BG", "Commission for Personal Data Protection", "https://www.cpdp.bg"),
    Authority("HR", "Croatian Personal Data Protection Agency (AZOP)", "https://azop.hr"),
    Authority(
        "CY", "Commissioner for Personal Data Protection", "https://www.dataprotection.gov.cy"
    ),
    Authority("CZ", "Office for Personal Data Protection (ÚOOÚ)", "https://uoou.gov.cz"),
    Authority("DK", "Danish Data Protection Agency (Datatilsynet)", "https://www.datatilsynet.dk"),
    Authority("EE", "Estonian Data Protection Inspectorate", "https://www.aki.ee"),
    Authority("FI", "Office of the Data Protection Ombudsman", "https://tietosuoja.fi"),
    Authority(
        "FR", "Commission nationale de l'informatique et des libertés (CNIL)", "https://www.cnil.fr"
    ),
    Authority(
        "DE",
        "Federal Commissioner for Data Protection and Freedom of Information (BfDI), "
        "or the authority of your Land",
        "https://www.bfdi.bund.de",
    ),
    Authority("GR", "Hellenic Data Protection Authority", "https://www.dpa.gr"),
    Authority(
        "HU",
        "Hungarian National Authority for Data Protection and Freedom of Information (NAIH)",
        "https://naih.hu",
    ),
    Authority("IE", "Data Protection Commission", "https://www.dataprotection.ie"),
    Authority(
        "IT", "Garante per la protezione dei dati personali", "https://www.garanteprivacy.it"
    ),
    Authority("LV", "Data State Inspectorate", "https://www.dvi.gov.lv"),
    Authority("LT", "State Data Protection Inspectorate", "https://vdai.lrv.lt"),
    Authority("LU", "National Commission for Data Protection (CNPD)", "https://cnpd.public.lu"),
    Authority("MT", "Information and Data Protection Commissioner", "https://idpc.org.mt"),
    Authority(
        "NL",
        "Dutch Data Protection Authority (Autoriteit Persoonsgegevens)",
        "https://autoriteitpersoonsgegevens.nl",
    ),
    Authority("PL", "Personal Data Protection Office (UODO)", "https://uodo.gov.pl"),
    Authority("PT", "National Data Protection Commission (CNPD)", "https://www.cnpd.pt"),
    Authority(
        "RO",
        "National Supervisory Authority for Personal Data Processing (ANSPDCP)",
        "https://www.dataprotection.ro",
    ),
    Authority(
        "SK",
        "Office for Personal Data Protection of the Slovak Republic",
        "https://dataprotection.gov.sk",
    ),
    Authority("SI", "Information Commissioner of the Republic of Slovenia", "https://www.ip-rs.si"),
    Authority("ES", "Spanish Data Protection Agency (AEPD)", "https://www.aepd.es"),
    Authority("SE", "Swedish Authority for Privacy Protection (IMY)", "https://www.imy.se"),
    Authority(
        "IS", "Icelandic Data Protection Authority (Persónuvernd)", "https://www.personuvernd.is"
    ),
    Authority(
        "LI",
        "Data Protection Authority of Liechtenstein (Datenschutzstelle)",
        "https://www.datenschutzstelle.li",
    ),
    Authority(
        "NO", "Norwegian Data Protection Authority (Datatilsynet)", "https://www.datatilsynet.no"
    ),
    Authority("GB", "Information Commissioner's Office (ICO)", "https://ico.org.uk"),
    Authority(
        "US",
        "California Privacy Protection Agency",
        "https://cppa.ca.gov",
        area="if you live in California",
    ),
)

_BY_COUNTRY = {authority.country: authority for authority in AUTHORITIES}


def authority_for(country: str | None) -> Authority | None:
    """The authority for `country` (an ISO 3166-1 alpha-2 code, any case), or None when we
    know none for it (another country, or none given)."""
    return _BY_COUNTRY.get((country or "").strip().upper())


def authority_sentence(country: str | None) -> str:
    """One plain-language sentence telling a person where to complain: the authority of
    their country with its web address, or, for a country we have none for, the general
    right with the EDPB's list of every EU/EEA authority."""
    authority = authority_for(country)
    if authority is None:
        return (
            "You may complain to a data protection supervisory authority, in particular "
            "the one of the country where you live or work. The European Data Protection "
            f"Board lists every authority in the EU and EEA: {EDPB_MEMBERS_URL}"
        )
    where = f" ({authority.area})" if authority.area else ""
    return (
        f"You may complain to the supervisory authority{where}: {authority.name}, {authority.url}"
    )

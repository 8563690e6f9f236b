"""The countries and their ages of digital consent are one table, read by every place."""

from pathlib import Path

from django.conf import settings

from qualipact.accounts.forms import AgeGateForm
from qualipact.privacy.countries import (
    ANOTHER_COUNTRY,
    COUNTRIES,
    country_choices,
    digital_consent_ages,
)

PACKAGE = Path(__file__).resolve().parents[2]
# Written out here, apart from the table, so the table cannot quietly lose one.
EU = {
    *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
    *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
}
EEA_NOT_EU = {"IS", "LI", "NO"}


def test_it_lists_each_country_once_with_an_age_the_law_allows():
    codes = [country.code for country in COUNTRIES]
    assert len(codes) == len(set(codes))
    for country in COUNTRIES:
        assert len(country.code) == 2 and country.code.isupper()
        # GDPR Art 8(1): 13 to 16; UK GDPR and COPPA: 13.
        assert country.digital_consent_age in {13, 14, 15, 16} or country.code == "ZZ"
    assert [c.code for c in COUNTRIES if c.digital_consent_age is None] == [ANOTHER_COUNTRY]


def test_it_lists_every_eu_and_eea_state():
    assert len(EU) == 27
    assert (EU | EEA_NOT_EU) - {country.code for country in COUNTRIES} == set()


def test_it_is_the_table_the_age_rule_and_the_sign_up_read():
    assert digital_consent_ages() == settings.CHILD_AGE_BY_COUNTRY
    assert list(AgeGateForm().fields["country"].choices) == [("", "—"), *country_choices()]


def test_it_is_written_down_nowhere_else():
    """No module keeps names or ages of its own (a second list drifts from this one)."""
    names = [f'"{c.name}"' for c in COUNTRIES if c.code != ANOTHER_COUNTRY]
    copies = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "countries.py"
        and "/tests/" not in path.as_posix()
        and (any(name in (text := path.read_text()) for name in names) or '"LU": 16' in text)
    ]
    assert copies == []

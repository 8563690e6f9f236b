"""The countries and their ages of digital consent are one table, read by every place."""

from pathlib import Path

from django.conf import settings

from qualipact.accounts.forms import AgeGateForm
from qualipact.privacy.countries import COUNTRIES, country_choices, digital_consent_ages

PACKAGE = Path(__file__).resolve().parents[2]


def test_it_lists_each_country_once_with_an_age_the_law_allows():
    codes = [country.code for country in COUNTRIES]
    assert len(codes) == len(set(codes))
    for country in COUNTRIES:
        assert len(country.code) == 2 and country.code.isupper()
        # GDPR Art 8(1): 13 to 16; UK GDPR and COPPA: 13.
        assert country.digital_consent_age in {13, 14, 15, 16} or country.code == "ZZ"
    assert [c.code for c in COUNTRIES if c.digital_consent_age is None] == ["ZZ"]


def test_it_is_the_table_the_age_rule_and_the_sign_up_read():
    assert digital_consent_ages() == settings.CHILD_AGE_BY_COUNTRY
    assert list(AgeGateForm().fields["country"].choices) == [("", "—"), *country_choices()]


def test_it_is_written_down_nowhere_else():
    copies = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "countries.py"
        and "/tests/" not in path.as_posix()
        and ('"Luxembourg"' in (text := path.read_text()) or '"LU": 16' in text)
    ]
    assert copies == []

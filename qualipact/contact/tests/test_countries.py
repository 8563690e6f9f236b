"""The contact form's countries and the supervisory authorities come from one table: every
country the form offers names its authority, or is "Another country", which is left to
the EDPB's list on purpose; and every authority is one a person can choose."""

import html
import re

import pytest
from django.urls import reverse

from qualipact.contact.forms import InquiryForm
from qualipact.privacy.authorities import (
    AUTHORITIES,
    EDPB_MEMBERS_URL,
    authority_for,
    authority_sentence,
)
from qualipact.privacy.countries import ANOTHER_COUNTRY
from qualipact.privacy.tests.test_countries import EEA_NOT_EU, EU


def offered() -> dict[str, str]:
    """{code: name} of the countries the contact form offers, from the form itself."""
    return {code: name for code, name in InquiryForm().fields["country"].choices if code}


def test_it_offers_every_eu_and_eea_state():
    assert (EU | EEA_NOT_EU) - offered().keys() == set()


def test_it_names_an_authority_for_every_country_offered_or_the_edpb_list_on_purpose():
    for code, name in offered().items():
        if code == ANOTHER_COUNTRY:
            assert authority_for(code) is None
            assert EDPB_MEMBERS_URL in authority_sentence(code)
        else:
            authority = authority_for(code)
            assert authority is not None, name
            assert authority.url in authority_sentence(code)


def test_it_offers_every_country_it_knows_an_authority_for():
    assert {authority.country for authority in AUTHORITIES} - offered().keys() == set()


@pytest.mark.django_db(databases=["default", "keys"])
def test_it_lists_on_the_page_the_authority_of_every_country_offered(client):
    page = client.get(reverse("contact:inquiry"))
    section = page.text.split("data-complaint-authorities", 1)[1].split("</section>", 1)[0]
    listed = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", section, re.S)]
    expected = [
        f"{name}: {authority.name}"
        + (f" ({authority.area})" if authority.area else "")
        + f", {authority.url}"
        for code, name in offered().items()
        if (authority := authority_for(code)) is not None
    ]
    assert listed == expected
    assert len(listed) == len(offered()) - 1  # all but "Another country"
    assert EDPB_MEMBERS_URL in section

"""Location: a country from the address (never the address), or a position coarsened to
about 1 km before anything keeps it; short retention; never without consent."""

import re
from decimal import Decimal

import pytest

from qualipact.offers import services
from qualipact.offers.location import InvalidPosition, country_of_address, position_coarsened
from qualipact.offers.models import LocationFix
from qualipact.offers.selectors import location_current
from qualipact.offers.tests.conftest import (
    IP_GB,
    IP_PRIVATE,
    IP_US,
    RAW_LATITUDE,
    RAW_LONGITUDE,
    grant,
)
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.tests.test_crypto_shredding import database_bytes

LOCATION = "location_features"
TWO_DECIMALS = re.compile(r"^-?\d{1,3}\.\d{2},-?\d{1,3}\.\d{2}$")
db = pytest.mark.django_db(databases=["default", "keys"])


def from_browser(subject, latitude, longitude):
    return services.location_record_from_browser(
        subject=subject, latitude=latitude, longitude=longitude, actor=Actor.subject(subject.pk)
    )


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (RAW_LATITUDE, RAW_LONGITUDE, "51.45,-2.59"),
        (51.454513, -2.58791, "51.45,-2.59"),
        (Decimal("-33.86882"), Decimal("151.20929"), "-33.87,151.21"),
        ("  48.8566 ", "2.3522", "48.86,2.35"),
        (90, -180, "90.00,-180.00"),
        ("-0.001", "0.004", "0.00,0.00"),  # no "-0.00"
        ("1e1", "0", "10.00,0.00"),
    ],
)
def test_it_coarsens_a_position_to_two_decimals(latitude, longitude, expected):
    assert position_coarsened(latitude, longitude).as_text() == expected


@pytest.mark.parametrize(
    ("latitude", "longitude", "problem"),
    [
        ("90.01", "0", {"latitude": "out_of_range"}),
        ("-91", "0", {"latitude": "out_of_range"}),
        ("0", "180.001", {"longitude": "out_of_range"}),
        ("nan", "0", {"latitude": "out_of_range"}),
        ("0", "inf", {"longitude": "out_of_range"}),
        (float("nan"), 0, {"latitude": "out_of_range"}),
        ("", "0", {"latitude": "not_a_number"}),
        (None, "0", {"latitude": "not_a_number"}),
        (True, "0", {"latitude": "not_a_number"}),
        ("51,45", "0", {"latitude": "not_a_number"}),
        ("0x10", "0", {"latitude": "not_a_number"}),
        ("1" * 40, "0", {"latitude": "not_a_number"}),
        ("1e400", "0", {"latitude": "out_of_range"}),
    ],
)
def test_it_refuses_an_invalid_position_without_quoting_it(latitude, longitude, problem):
    with pytest.raises(InvalidPosition) as refused:
        position_coarsened(latitude, longitude)
    assert refused.value.extra == problem
    for value in (latitude, longitude):
        if isinstance(value, str) and value.strip() not in ("", "0"):
            assert value not in refused.value.message


@pytest.mark.parametrize(
    ("address", "country"),
    [
        (IP_GB, "GB"),
        (IP_US, "US"),
        ("2a00:1450:4001::1", "IE"),
        (IP_PRIVATE, ""),
        ("127.0.0.1", ""),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_it_tells_the_country_of_an_address_offline(address, country):
    assert country_of_address(address) == country


@db
def test_it_keeps_only_the_country_of_the_connection(alice):
    grant(alice, LOCATION)
    fix = services.location_record_from_ip(
        subject=alice, address=IP_GB, actor=Actor.subject(alice.pk)
    )
    stored = LocationFix.objects.get(pk=fix.pk)
    assert (stored.method, stored.country, stored.position) == ("ip_country", "GB", None)


@db
def test_an_unknown_country_is_explained_and_nothing_is_stored(alice):
    grant(alice, LOCATION)
    with pytest.raises(ApplicationError, match="could not be told") as refused:
        services.location_record_from_ip(
            subject=alice, address=IP_PRIVATE, actor=Actor.subject(alice.pk)
        )
    assert refused.value.extra == {"country": "unknown"}
    assert not LocationFix.objects.exists()


@db
def test_a_new_fix_replaces_the_old_one_of_the_same_kind(alice):
    grant(alice, LOCATION)
    first = from_browser(alice, "51.4545", "-2.5879")
    second = from_browser(alice, "48.8566", "2.3522")
    services.location_record_from_ip(subject=alice, address=IP_US, actor=Actor.subject(alice.pk))
    assert first.pk == second.pk
    assert LocationFix.objects.filter(subject=alice).count() == 2
    current = location_current(alice)
    assert current.country == "US"
    assert current.position.as_text() == "48.86,2.35"


@db
@pytest.mark.parametrize(("latitude", "longitude"), [("95", "0"), ("abc", "1"), (None, None)])
def test_an_invalid_position_stores_nothing_and_keeps_the_previous_one(alice, latitude, longitude):
    grant(alice, LOCATION)
    from_browser(alice, "51.4545", "-2.5879")
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidPosition):
        from_browser(alice, latitude, longitude)
    assert location_current(alice).position.as_text() == "51.45,-2.59"
    assert AuditEvent.objects.count() == events


@db
def test_forgetting_deletes_every_location_even_without_consent(alice):
    grant(alice, LOCATION)
    from_browser(alice, "51.4545", "-2.5879")
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))
    from qualipact.offers.tests.conftest import withdraw

    withdraw(alice, LOCATION)
    assert services.location_forget(subject=alice, actor=Actor.subject(alice.pk)) == 2
    assert not LocationFix.objects.exists()


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_neither_the_exact_position_nor_the_address_ever_reaches_the_database(
    alice, consent_wordings
):
    grant(alice, LOCATION)
    fix = from_browser(alice, RAW_LATITUDE, RAW_LONGITUDE)
    services.location_record_from_ip(subject=alice, address=IP_GB, actor=Actor.subject(alice.pk))

    # What is stored, once decrypted, has two decimals at most.
    stored = LocationFix.objects.get(pk=fix.pk)
    assert TWO_DECIMALS.match(stored.position)
    assert stored.position == "51.45,-2.59"

    # The encrypted columns hold ciphertext: neither the exact nor the coarse values.
    sealed = LocationFix.objects.values_list("position", "country")
    for position, country in sealed:
        for column in (position, country):
            if column is not None:
                assert b"51.45,-2.59" not in bytes(column)

    # Audit rows name the fix and the method, never a place.
    audit = " ".join(
        f"{e.data} {e.purpose}" for e in AuditEvent.objects.filter(subject_id=alice.pk)
    )
    raw_forms = [RAW_LATITUDE, RAW_LONGITUDE, "51.4545", "2.5879", "51.45", "2.59", IP_GB]
    for value in raw_forms:
        assert value not in audit

    # Nowhere in the database file (and its WAL) is any form of the exact position or
    # the address: not the input, not a rounding of it, not the coarse text in clear.
    blob = database_bytes("default")
    exact_forms = [RAW_LATITUDE, RAW_LONGITUDE, "51.4545", "2.5879", IP_GB, "51.45,-2.59"]
    for value in exact_forms:
        assert value.encode() not in blob, value
        assert value.encode().hex().encode() not in blob, value
    # Control: the scan does see the fix row (its id is stored in clear).
    assert fix.pk.hex.encode() in blob or str(fix.pk).encode() in blob

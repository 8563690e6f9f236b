"""The offers data is declared once and so is exported, erased and checked like any other."""

import pytest

from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.offers.tests.test_sweep import give_everything, rows
from qualipact.privacy.audit import Actor
from qualipact.privacy.registry import registry
from qualipact.privacy.selectors import subject_collect
from qualipact.privacy.services import subject_erase

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_every_offers_model_with_a_subject_is_declared():
    assert registry.conformance_problems() == []
    labels = {d.label for d in registry.declarations()}
    assert {"offers.TopicPreference", "offers.BrowsingEvent", "offers.LocationFix"} <= labels
    position = registry.field(LocationFix, "position")
    assert position.encrypted and position.purposes == ("location_features",)
    assert position.legal_basis == "consent" and position.category == "location"
    assert registry.field(BrowsingEvent, "offer").retention.describe() == (
        "90 days after viewed at, or as soon as you withdraw your consent, then deleted"
    )
    assert registry.field(LocationFix, "country").retention.describe() == (
        "30 days after recorded at, or as soon as you withdraw your consent, then deleted"
    )
    assert registry.field(TopicPreference, "topic").source == "provided"


def test_the_access_export_shows_the_person_their_offers_data_decrypted(alice, catalogue):
    give_everything(alice, catalogue)
    collected = subject_collect(alice).as_dict()
    records = {}
    for record in collected["records"]:
        records.setdefault(record["model"], []).append(
            {f["field"]: f["value"] for f in record["fields"]}
        )
    assert records["offers.TopicPreference"] == [
        {"topic": catalogue["privacy-guide"].topics.get().pk}
    ]
    assert records["offers.BrowsingEvent"][0]["offer"] == catalogue["privacy-guide"].pk
    fixes = sorted(records["offers.LocationFix"], key=lambda f: f["method"])
    assert [(f["method"], f["country"], f["position"]) for f in fixes] == [
        ("browser", None, "51.45,-2.59"),
        ("ip_country", "GB", None),
    ]


def test_erasure_deletes_the_offers_data_and_only_that_persons(alice, bob, catalogue):
    give_everything(alice, catalogue)
    give_everything(bob, catalogue)
    receipt = subject_erase(subject=alice, actor=Actor.system("test"))
    assert rows(alice) == (0, 0, 0)
    assert rows(bob) == (1, 1, 2)
    assert receipt.models["offers.LocationFix"] == {"action": "delete_row", "rows": 2}

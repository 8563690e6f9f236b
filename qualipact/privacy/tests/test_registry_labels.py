"""Every declared model, field and purpose has a label a person reads, never a code name."""

import pytest

from qualipact.contact.models import Inquiry
from qualipact.offers.models import LocationFix
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.registry import (
    Category,
    PersonalField,
    Registry,
    label_problems,
    registry,
)
from qualipact.privacy.tests.test_registry import declare_inquiry, problems_of


def test_it_labels_every_declared_model_and_field_in_words():
    problems = []
    for declaration in registry.declarations():
        for text in (declaration.label_human, declaration.label_human_plural):
            problems += [f"{declaration.label}: {p}" for p in label_problems(text)]
        for name, spec in declaration.fields.items():
            problems += [
                f"{declaration.label}.{name}: {p}" for p in label_problems(spec.label, name=name)
            ]
    assert problems == []


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_it_labels_every_purpose_in_words(purpose):
    assert label_problems(PURPOSES[purpose].label, name=purpose) == []
    assert PURPOSES[purpose].label[0].isupper()


def test_it_takes_a_field_label_from_the_model_field_unless_declared():
    assert registry.field(Inquiry, "postal_address").label == "postal address"
    assert registry.field(Inquiry, "email_index").label == "email lookup code"


def test_it_keeps_the_model_label_for_code_and_gives_people_words():
    declaration = registry.get(LocationFix)
    assert declaration is not None
    assert declaration.label == "offers.LocationFix"
    assert (declaration.label_human, declaration.label_human_plural) == ("location", "locations")
    inquiry = registry.get(Inquiry)
    assert inquiry is not None
    assert (inquiry.label_human, inquiry.label_human_plural) == (
        "contact message",
        "contact messages",
    )


@pytest.mark.parametrize(
    ("label", "name", "why"),
    [
        ("postal_address", "postal_address", "has an underscore"),
        ("contact.Inquiry", "", "looks like a dotted app label"),
        ("", "", "has no label"),
    ],
)
def test_it_names_what_makes_a_label_read_like_code(label, name, why):
    assert any(why in problem for problem in label_problems(label, name=name))


def test_it_refuses_to_start_with_a_label_that_reads_like_code():
    fresh = Registry()
    declare_inquiry(
        fresh,
        label="contact.Inquiry",
        fields={"phone": PersonalField(Category.CONTACT, encrypted=True, label="phone_number")},
    )
    problems = problems_of(fresh)
    assert "contact.Inquiry: label 'contact.Inquiry' looks like a dotted app label" in problems
    assert "contact.Inquiry.phone: label 'phone_number' has an underscore" in problems

import pytest

from qualipact.contact.models import Inquiry
from qualipact.privacy import enforcement
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import (
    may_process,
    purpose_require,
    rule_register,
    subjects_for_purpose,
)
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.privacy.services import subject_create, subject_restrict, subject_restriction_lift

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture
def people():
    system = Actor.system("test")
    plain = subject_create(actor=system)
    restricted = subject_restrict(
        subject=subject_create(actor=system), actor=system, reason="contested"
    )
    erased = subject_create(actor=system)
    erased.erased_at = erased.created_at
    erased.save()
    return {"plain": plain, "restricted": restricted, "erased": erased}


def test_it_allows_contract_and_legitimate_interest_purposes(people):
    assert may_process(people["plain"], "customer_support")
    assert may_process(people["plain"], "security")


@pytest.mark.parametrize(
    "purpose", [p.code for p in PURPOSES.values() if p.legal_basis is LegalBasis.CONSENT]
)
def test_it_refuses_every_consent_purpose_without_a_consent_record(people, purpose):
    assert not may_process(people["plain"], purpose)
    with pytest.raises(ProcessingRefused, match="no_consent"):
        purpose_require(people["plain"], purpose)


def test_it_refuses_all_but_legal_purposes_while_restricted(people):
    restricted = people["restricted"]
    assert not may_process(restricted, "customer_support")
    assert not may_process(restricted, "security")
    assert may_process(restricted, "legal_claims")
    assert may_process(restricted, "legal_compliance")


def test_it_allows_again_once_restriction_is_lifted(people):
    subject = subject_restriction_lift(
        subject=people["restricted"], actor=Actor.system("test"), reason="resolved"
    )
    assert may_process(subject, "customer_support")


def test_it_refuses_everything_for_an_erased_subject(people):
    assert not may_process(people["erased"], "legal_compliance")


def test_it_rejects_an_unknown_purpose(people):
    with pytest.raises(KeyError, match="Unknown purpose 'selling'"):
        may_process(people["plain"], "selling")


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_it_gives_the_same_answer_per_person_and_as_a_set(people, purpose):
    allowed = set(subjects_for_purpose(DataSubject.objects.all(), purpose))
    for subject in people.values():
        assert (subject in allowed) == may_process(subject, purpose)


def test_it_filters_any_model_with_a_subject_key_in_one_query(
    alice_inquiry, bob_inquiry, django_assert_num_queries
):
    subject_restrict(subject=bob_inquiry.subject, actor=Actor.system("t"), reason="contested")
    with django_assert_num_queries(1):
        allowed = list(subjects_for_purpose(Inquiry.objects.all(), "customer_support"))
    assert [i.pk for i in allowed] == [alice_inquiry.pk]


def test_it_takes_new_rules_through_the_extension_point(people, monkeypatch):
    class EveryoneConsented:
        def refusal(self, subject, purpose):
            return None

        def exclusion(self, purpose):
            return None

    monkeypatch.setattr(enforcement, "_rules", dict(enforcement._rules))
    rule_register("consent", EveryoneConsented())
    assert may_process(people["plain"], "marketing")
    assert not may_process(people["restricted"], "marketing")
    assert list(subjects_for_purpose(DataSubject.objects.all(), "marketing")) == [people["plain"]]

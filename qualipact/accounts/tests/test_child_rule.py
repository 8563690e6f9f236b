"""A child's data: no consent-based purpose, and only fields declared for children."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qualipact.accounts import child_rule
from qualipact.accounts.models import AccountSession, ParentalConsent, User
from qualipact.accounts.services import account_create
from qualipact.comms import tasks as comms_tasks
from qualipact.comms.models import NewsletterSignup
from qualipact.consent.models import Channel, ConsentEvent, ConsentState, ConsentWording
from qualipact.consent.services import consent_grant
from qualipact.contact.models import Inquiry
from qualipact.contact.services import inquiry_submit
from qualipact.offers.models import LocationFix, Topic, TopicPreference
from qualipact.privacy import enforcement
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process, purpose_decide, subjects_for_purpose
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES, LegalBasis

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
CONSENT_PURPOSES = sorted(p.code for p in PURPOSES.values() if p.legal_basis is LegalBasis.CONSENT)
# A value that must never appear in an error message.
MARKER = "48.21,16.37"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


class _Allow:
    def refusal(self, subject, purpose):
        return None

    def exclusion(self, purpose):
        return None


@pytest.fixture
def everyone_consented(monkeypatch):
    """As if the consent ledger held a grant from everyone for every purpose."""
    monkeypatch.setattr(enforcement, "_rules", dict(enforcement._rules))
    enforcement.rule_register("consent", _Allow())


@pytest.fixture
def child():
    return account_create(
        username="kim",
        email="kim@example.org",
        password=PASSWORD,
        email_verified=True,
        child_until=timezone.localdate() + timedelta(days=300),
    )


@pytest.fixture
def adult():
    return account_create(
        username="ada", email="ada@example.org", password=PASSWORD, email_verified=True
    )


def test_the_consent_based_purposes_are_the_ones_the_policy_names():
    assert CONSENT_PURPOSES == [
        "location_features",
        "marketing",
        "partner_sharing",
        "personalised_ads",
        "personalised_offers",
    ]


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_it_refuses_every_consent_based_purpose_for_a_child(
    everyone_consented, child, adult, purpose
):
    assert may_process(adult.subject, purpose)
    assert not may_process(child.subject, purpose)
    assert purpose_decide(child.subject, purpose).reasons == ("child",)
    nobody = DataSubject.objects.create()  # a contact-form subject without an account
    audience = subjects_for_purpose(DataSubject.objects.all(), purpose)
    assert set(audience) == {adult.subject, nobody}
    rows = subjects_for_purpose(User.objects.all(), purpose)
    assert list(rows) == [adult]


def test_it_allows_the_purposes_a_childs_account_needs(child):
    for purpose in ("service_delivery", "service_notifications", "security", "legal_compliance"):
        assert may_process(child.subject, purpose), purpose
        assert child.subject in subjects_for_purpose(DataSubject.objects.all(), purpose)


def test_it_treats_a_child_who_reached_the_threshold_as_an_adult(everyone_consented, child):
    User.objects.filter(pk=child.pk).update(child_until=timezone.localdate())
    assert may_process(child.subject, "marketing")
    assert child.subject in subjects_for_purpose(DataSubject.objects.all(), "marketing")


def test_it_refuses_a_location_for_a_child_without_naming_it(child, adult):
    now = timezone.now()
    with pytest.raises(ProcessingRefused) as refused:
        LocationFix(
            subject=child.subject, method="browser", position=MARKER, recorded_at=now
        ).save()
    assert "offers.LocationFix" in refused.value.message and "position" in refused.value.message
    assert MARKER not in str(refused.value) and MARKER not in repr(refused.value.extra)
    assert not LocationFix.objects.filter(subject=child.subject).exists()
    LocationFix(subject=adult.subject, method="browser", position=MARKER, recorded_at=now).save()
    assert LocationFix.objects.get(subject=adult.subject).position == MARKER


def test_it_refuses_topic_preferences_for_a_child(child, adult):
    topic = Topic.objects.create(slug="hiking", name="Hiking")
    with pytest.raises(ProcessingRefused):
        TopicPreference.objects.create(subject=child.subject, topic=topic)
    TopicPreference.objects.create(subject=adult.subject, topic=topic)
    assert TopicPreference.objects.filter(subject=child.subject).count() == 0


def test_it_refuses_a_contact_inquiry_stored_under_a_childs_subject(child):
    with pytest.raises(ProcessingRefused) as refused:
        inquiry_submit(
            kind="general",
            name="Kim Child",
            email="kim@example.org",
            subject_line="Hello",
            message="A message only a child would write",
        )
    assert "Kim Child" not in str(refused.value) and "kim@example.org" not in str(refused.value)
    assert not Inquiry.objects.exists()


def test_it_refuses_a_newsletter_signup_and_a_consent_grant_for_a_child(child):
    wording = ConsentWording.objects.filter(purpose="marketing").latest("id")
    with pytest.raises(ProcessingRefused):
        NewsletterSignup.objects.create(
            subject=child.subject,
            email="kim@example.org",
            wording=wording,
            confirmation_hash="0" * 64,
            confirm_by=timezone.now() + timedelta(days=1),
        )
    with pytest.raises(ProcessingRefused):
        consent_grant(
            subject=child.subject,
            purpose="marketing",
            channel=Channel.values[0],
            actor=Actor.subject(child.subject_id),
        )
    assert not NewsletterSignup.objects.exists()
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()


def test_it_allows_a_childs_session_only_without_a_location(child):
    fields = {"session_key": "k" * 32, "device": "Firefox on Linux", "device_hash": "d" * 64}
    AccountSession.objects.create(subject=child.subject, session_key_hash="a" * 64, **fields)
    with pytest.raises(ProcessingRefused) as refused:
        AccountSession.objects.create(
            subject=child.subject, session_key_hash="b" * 64, country="AT", **fields
        )
    assert refused.value.extra["fields"] == ["country"]
    assert AccountSession.objects.filter(subject=child.subject).count() == 1


def test_it_checks_an_adults_row_with_one_query_and_a_childs_account_rows_with_none(child, adult):
    topic = Topic.objects.create(slug="cycling", name="Cycling")
    row = TopicPreference(subject=adult.subject, topic=topic)
    with CaptureQueriesContext(connection) as queries:
        child_rule.refuse_child_fields(sender=TopicPreference, instance=row)
    assert len(queries) == 1
    consent = ParentalConsent(subject=child.subject, parent_email="p@example.org")
    with CaptureQueriesContext(connection) as queries:
        child_rule.refuse_child_fields(sender=ParentalConsent, instance=consent)
    assert len(queries) == 0

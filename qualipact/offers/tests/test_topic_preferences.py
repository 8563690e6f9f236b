"""Stated interests: replaced as a whole, validated, audited with counts only."""

import pytest

from qualipact.offers.events import OffersCode
from qualipact.offers.models import TopicPreference
from qualipact.offers.services import MAX_TOPICS, topic_get_or_create, topic_preferences_set
from qualipact.offers.tests.conftest import grant
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def stated(subject) -> set[str]:
    return set(
        TopicPreference.objects.filter(subject=subject).values_list("topic__slug", flat=True)
    )


def set_topics(subject, *topics):
    return topic_preferences_set(subject=subject, topics=topics, actor=Actor.subject(subject.pk))


def test_it_replaces_the_stated_topics_and_audits_counts_only(alice, bob, catalogue):
    grant(alice, "personalised_offers")
    grant(bob, "personalised_offers")
    set_topics(bob, "privacy")
    set_topics(alice, "privacy", "security")
    set_topics(alice, "security", "events")
    assert stated(alice) == {"security", "events"}
    assert stated(bob) == {"privacy"}  # nobody else's interests change
    last = AuditEvent.objects.filter(
        subject_id=alice.pk, code=OffersCode.TOPIC_PREFERENCES_SET
    ).latest("id")
    assert last.data == {"count": 2, "added": 1, "removed": 1}

    set_topics(alice)
    assert stated(alice) == set()


def test_an_unknown_topic_changes_nothing(alice, catalogue):
    grant(alice, "personalised_offers")
    set_topics(alice, "privacy")
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError, match="Unknown topic"):
        set_topics(alice, "security", "gambling")
    assert stated(alice) == {"privacy"}
    assert AuditEvent.objects.count() == events


def test_it_refuses_more_topics_than_anyone_needs(alice, db):
    grant(alice, "personalised_offers")
    slugs = [topic_get_or_create(slug=f"topic-{n}").slug for n in range(MAX_TOPICS + 1)]
    with pytest.raises(ApplicationError, match="Too many topics"):
        set_topics(alice, *slugs)
    set_topics(alice, *slugs[:MAX_TOPICS])
    assert len(stated(alice)) == MAX_TOPICS

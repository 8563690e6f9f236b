from datetime import timedelta

import pytest
from django.utils import timezone

from qualipact.consent.models import Channel
from qualipact.consent.services import consent_grant, consent_withdraw, preference_link_issue
from qualipact.offers.services import offer_create, topic_get_or_create
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_create

SYSTEM = Actor.system("test")
# Public addresses that iptocc places in a country (documentation ranges are in none).
IP_GB = "81.2.69.142"
IP_US = "8.8.8.8"
IP_PRIVATE = "192.168.1.20"
# A precise position in Bristol, to the metre: only its 2-decimal form may ever be stored.
RAW_LATITUDE = "51.454513"
RAW_LONGITUDE = "-2.587910"


def grant(subject, purpose):
    return consent_grant(
        subject=subject,
        purpose=purpose,
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(subject.pk),
    )


def withdraw(subject, purpose):
    return consent_withdraw(
        subject=subject,
        purpose=purpose,
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(subject.pk),
    )


@pytest.fixture
def alice():
    return subject_create(actor=SYSTEM)


@pytest.fixture
def bob():
    return subject_create(actor=SYSTEM)


@pytest.fixture
def alice_link(alice):
    return preference_link_issue(subject=alice)


@pytest.fixture
def catalogue():
    """Six listed offers (newest last created), one unpublished and one that is over."""
    today = timezone.now().date()
    for slug, name in [("privacy", "Privacy"), ("security", "Security"), ("events", "Events")]:
        topic_get_or_create(slug=slug, name=name)
    offers = {}
    for spec in [
        dict(slug="privacy-guide", kind="article", topics=["privacy"]),
        dict(slug="security-tips", kind="article", topics=["security"]),
        dict(
            slug="bristol-meetup",
            kind="event",
            topics=["events", "privacy"],
            regions=["GB"],
            starts_on=today + timedelta(days=10),
            venue_name="Watershed, Bristol",
            venue_latitude="51.4510",
            venue_longitude="-2.5977",
        ),
        dict(
            slug="berlin-day",
            kind="event",
            topics=["events"],
            regions=["DE", "AT"],
            starts_on=today + timedelta(days=20),
            venue_name="Berlin",
            venue_latitude="52.5390",
            venue_longitude="13.4127",
        ),
        dict(slug="us-promo", kind="promotion", topics=["security"], regions=["US"]),
        dict(slug="spring-sale", kind="promotion", topics=[], ends_on=today),
        dict(slug="draft", kind="article", topics=["privacy"], published=False),
        dict(slug="last-year", kind="promotion", topics=["privacy"], ends_on=today - timedelta(1)),
    ]:
        slug = spec.pop("slug")
        offers[slug] = offer_create(
            slug=slug, title=slug.replace("-", " ").title(), summary=f"About {slug}.", **spec
        )
    return offers


def slugs(result) -> list[str]:
    return [offer.slug for offer in result.offers]


# Newest first: the order everybody sees without consent.
DEFAULT_ORDER = [
    "spring-sale",
    "us-promo",
    "berlin-day",
    "bristol-meetup",
    "security-tips",
    "privacy-guide",
]


@pytest.fixture
def consent_wordings():
    """The consent wordings exist for every database test (see the root conftest)."""

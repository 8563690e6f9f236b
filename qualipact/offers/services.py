"""Writes of the offers app.

Every write of personal data asks purpose enforcement first (`purpose_require`, which
raises `ProcessingRefused` without a current consent) and writes its audit event in the
same transaction. Audit events carry ids, counts and codes: never a topic, an offer a
person looked at, a country or a position.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qualipact.offers import events
from qualipact.offers.location import country_of_address, position_coarsened
from qualipact.offers.models import BrowsingEvent, LocationFix, Offer, Topic, TopicPreference
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import purpose_require
from qualipact.privacy.erasure import rows_erase
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject

PERSONALISED_OFFERS = "personalised_offers"
LOCATION_FEATURES = "location_features"
# At most this many stated interests per person (the catalogue has a handful of topics).
MAX_TOPICS = 20


class InvalidTopics(ApplicationError):
    code = "invalid_topics"


class CountryUnknown(ApplicationError):
    """The connection's address is in no country (private, loopback, reserved)."""

    code = "country_unknown"


# Paths under /offers/ that are pages, not offers.
RESERVED_SLUGS = frozenset({"for", "for-you"})


def _locked_and_allowed(subject: DataSubject, purpose: str) -> DataSubject:
    """The person's row, locked, once enforcement allows the purpose on its current state.

    Locking first, like `subject_for_email`: an erasure running now finishes before
    this, is then seen (erased), and nothing new is attached to the person.
    """
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    purpose_require(subject, purpose)
    return subject


# -- The catalogue (no personal data) -------------------------------------------------


def regions_normalise(regions: Iterable[str] | str) -> str:
    """Country codes as stored: upper case, unique, sorted, comma-separated."""
    codes = regions.split(",") if isinstance(regions, str) else list(regions)
    return ",".join(sorted({code.strip().upper() for code in codes if code.strip()}))


@transaction.atomic
def offer_create(
    *,
    slug: str,
    title: str,
    kind: str,
    summary: str,
    topics: Iterable[str] = (),
    regions: Iterable[str] | str = "",
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    venue_name: str = "",
    venue_latitude: Any = None,
    venue_longitude: Any = None,
    published: bool = True,
) -> Offer:
    """Add an offer to the catalogue; topics are slugs, created when new."""
    if slug in RESERVED_SLUGS:
        raise ApplicationError("The offer is not valid", {"slug": ["This address is a page."]})
    offer = Offer(
        slug=slug,
        title=title,
        kind=kind,
        summary=summary,
        regions=regions_normalise(regions),
        starts_on=starts_on,
        ends_on=ends_on,
        venue_name=venue_name,
        venue_latitude=venue_latitude,
        venue_longitude=venue_longitude,
        published=published,
    )
    try:
        offer.full_clean()
    except ValidationError as error:
        raise ApplicationError("The offer is not valid", error.message_dict) from None
    offer.save()
    offer.topics.set([topic_get_or_create(slug=topic) for topic in topics])
    return offer


def topic_get_or_create(*, slug: str, name: str = "") -> Topic:
    topic, _ = Topic.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").capitalize()}
    )
    return topic


# -- Stated interests ---------------------------------------------------------------


@transaction.atomic
def topic_preferences_set(
    *, subject: DataSubject, topics: Iterable[str], actor: Actor
) -> list[TopicPreference]:
    """Replace the person's stated interests with these topic slugs."""
    subject = _locked_and_allowed(subject, PERSONALISED_OFFERS)
    wanted = {slug for slug in topics if slug}
    if len(wanted) > MAX_TOPICS:
        raise InvalidTopics("Too many topics", {"topics": "too_many"})
    found = {topic.slug: topic for topic in Topic.objects.filter(slug__in=wanted)}
    if unknown := wanted - set(found):
        raise InvalidTopics("Unknown topic", {"topics": "unknown", "count": len(unknown)})
    current = {p.topic_id: p for p in TopicPreference.objects.filter(subject=subject)}
    keep = {topic.pk for topic in found.values()}
    removed = [p.pk for topic_id, p in current.items() if topic_id not in keep]
    TopicPreference.objects.filter(pk__in=removed).delete()
    TopicPreference.objects.bulk_create(
        [
            TopicPreference(subject=subject, topic=topic)
            for topic in found.values()
            if topic.pk not in current
        ]
    )
    events.topic_preferences_set_event(
        subject_id=subject.pk,
        actor=actor,
        count=len(keep),
        added=len(keep - set(current)),
        removed=len(removed),
    )
    return list(TopicPreference.objects.filter(subject=subject).select_related("topic"))


# -- Browsing history ---------------------------------------------------------------


@transaction.atomic
def offer_view_record(*, subject: DataSubject, offer: Offer, actor: Actor) -> BrowsingEvent:
    """Remember that the person looked at an offer; refused without consent."""
    subject = _locked_and_allowed(subject, PERSONALISED_OFFERS)
    if not offer.published:
        raise ApplicationError("The offer is not published", {"offer": "unpublished"})
    event = BrowsingEvent.objects.create(subject=subject, offer=offer, viewed_at=timezone.now())
    events.offer_view_recorded_event(event=event, actor=actor)
    return event


# -- Location -----------------------------------------------------------------------


def _location_store(
    *, subject: DataSubject, method: str, actor: Actor, **values: str | None
) -> LocationFix:
    fix, created = LocationFix.objects.select_for_update().get_or_create(
        subject=subject,
        method=method,
        defaults={**values, "recorded_at": timezone.now()},
    )
    if not created:
        for name, value in values.items():
            setattr(fix, name, value)
        fix.recorded_at = timezone.now()
        fix.save()
    events.location_recorded_event(fix=fix, actor=actor, replaced=not created)
    return fix


@transaction.atomic
def location_record_from_ip(*, subject: DataSubject, address: str, actor: Actor) -> LocationFix:
    """Keep the country of the person's connection, never the address itself."""
    subject = _locked_and_allowed(subject, LOCATION_FEATURES)
    country = country_of_address(address)
    if not country:
        raise CountryUnknown(
            "Your country could not be told from your connection", {"country": "unknown"}
        )
    return _location_store(
        subject=subject,
        method=LocationFix.Method.IP_COUNTRY,
        actor=actor,
        country=country,
        position=None,
    )


@transaction.atomic
def location_record_from_browser(
    *, subject: DataSubject, latitude: object, longitude: object, actor: Actor
) -> LocationFix:
    """Keep the person's position rounded to about 1 km; the exact one is never stored."""
    subject = _locked_and_allowed(subject, LOCATION_FEATURES)
    position = position_coarsened(latitude, longitude)
    return _location_store(
        subject=subject,
        method=LocationFix.Method.BROWSER,
        actor=actor,
        country=None,
        position=position.as_text(),
    )


@transaction.atomic
def location_forget(*, subject: DataSubject, actor: Actor) -> int:
    """Delete every location we hold of the person. Always allowed: it only removes data."""
    deleted = rows_erase(LocationFix.objects.filter(subject=subject))[LocationFix._meta.label]
    events.location_forgotten_event(subject_id=subject.pk, actor=actor, deleted=deleted)
    return deleted


# -- Retention and withdrawal --------------------------------------------------------

"""Reads of the offers app: the catalogue, and the list a person sees.

`offers_for` is the one place that decides what a person's list looks like. It reads a
person's interests, history and location only while purpose enforcement allows the
purpose they serve, at the moment of the call; otherwise it does not touch those rows
at all, and the person gets the same list as everybody else.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from qualipact.offers.location import Position, distance_km
from qualipact.offers.models import BrowsingEvent, LocationFix, Offer, Topic, TopicPreference
from qualipact.offers.privacy import BROWSING_RETENTION, LOCATION_RETENTION
from qualipact.offers.services import LOCATION_FEATURES, PERSONALISED_OFFERS
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.models import DataSubject

DEFAULT_LIMIT = 12
# Personal ranking looks at this many of the newest listed offers at most.
CANDIDATES = 500
# Events whose venue is this close to the person's approximate position are "near you".
NEAR_KM = 50
# Weights of the ranking: a stated interest counts more than browsing.
STATED_TOPIC_WEIGHT = 3
HISTORY_TOPIC_CAP = 3
LOCAL_WEIGHT = 2
NEAR_WEIGHT = 4
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class OfferItem:
    offer: Offer
    # Why it is where it is, for the page to say so.
    matched_topics: tuple[Topic, ...] = ()
    from_history: bool = False
    local: bool = False
    distance_km: int | None = None

    @property
    def reasons(self) -> list[str]:
        """Why the offer is ranked where it is, in the person's words."""
        reasons = []
        if self.matched_topics:
            names = ", ".join(topic.name for topic in self.matched_topics)
            reasons.append(f"it matches your interest in {names}")
        if self.from_history:
            reasons.append("you looked at similar offers")
        if self.local:
            reasons.append("it is offered in your country")
        if self.distance_km is not None:
            reasons.append(f"it is about {self.distance_km} km from you")
        return reasons


@dataclass(frozen=True)
class CurrentLocation:
    country: str = ""
    country_recorded_at: datetime.datetime | None = None
    position: Position | None = None
    position_recorded_at: datetime.datetime | None = None

    @property
    def known(self) -> bool:
        return bool(self.country or self.position)


@dataclass(frozen=True)
class OfferList:
    items: list[OfferItem]
    personalised: bool = False
    located: bool = False
    country: str = ""
    location: CurrentLocation = field(default_factory=CurrentLocation)

    @property
    def offers(self) -> list[Offer]:
        return [item.offer for item in self.items]


def _today() -> datetime.date:
    return timezone.now().date()


def offers_listed(*, today: datetime.date | None = None) -> QuerySet[Offer]:
    """Published offers that are not over, newest first, with their topics."""
    today = today or _today()
    return (
        Offer.objects.filter(published=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.order_by("name")))
        .order_by("-created_at", "-id")
    )


def _available_in(country: str) -> Q:
    # `regions` is "" (everywhere) or sorted codes joined by commas: "FR,GB,IE".
    return (
        Q(regions="")
        | Q(regions=country)
        | Q(regions__startswith=f"{country},")
        | Q(regions__endswith=f",{country}")
        | Q(regions__contains=f",{country},")
    )


def offer_get(slug: str) -> Offer | None:
    """A listed offer by its slug, or None (unpublished, over, or unknown)."""
    return offers_listed().filter(slug=slug).first()


def topics_all() -> list[Topic]:
    return list(Topic.objects.order_by("name"))


def topic_preferences_of(subject: DataSubject) -> set[str]:
    """The slugs of the topics the person stated. Shown to them on their own page."""
    return set(
        TopicPreference.objects.filter(subject=subject).values_list("topic__slug", flat=True)
    )


def location_current(
    subject: DataSubject, *, now: datetime.datetime | None = None
) -> CurrentLocation:
    """The person's stored location fixes that are still within their retention."""
    cutoff = LOCATION_RETENTION.cutoff(now or timezone.now())
    found: dict[str, object] = {}
    for fix in LocationFix.objects.filter(subject=subject, recorded_at__gte=cutoff):
        if fix.method == LocationFix.Method.IP_COUNTRY and fix.country:
            found.update(country=fix.country, country_recorded_at=fix.recorded_at)
        elif fix.method == LocationFix.Method.BROWSER and fix.position:
            found.update(
                # The field decrypts to text; its type is the ciphertext's (binary).
                position=Position.from_text(cast(str, fix.position)),
                position_recorded_at=fix.recorded_at,
            )
    return CurrentLocation(**found)  # type: ignore[arg-type]


def _topic_history(subject: DataSubject, now: datetime.datetime) -> Counter[int]:
    """How often the person looked at offers of each topic, within the retention period."""
    topic_ids = BrowsingEvent.objects.filter(
        subject=subject, viewed_at__gte=BROWSING_RETENTION.cutoff(now)
    ).values_list("offer__topics", flat=True)
    return Counter(topic_id for topic_id in topic_ids if topic_id is not None)


def offers_default(*, limit: int = DEFAULT_LIMIT) -> OfferList:
    """The list everybody sees without consent: the newest listed offers."""
    return OfferList(items=[OfferItem(offer) for offer in offers_listed()[:limit]])


def offers_for(
    subject: DataSubject | None,
    *,
    country: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> OfferList:
    """The offers list for a person, or the default list.

    - Personalised (ranked by stated topics and browsing history) only while
      `personalised_offers` may be processed for the person.
    - Location-based (restricted to offers available in their country, local ones and
      events near them first) only while `location_features` may be processed. `country`
      is a country the caller derived in this request (not stored); it overrides the
      stored one. Without a person it is ignored: an anonymous visitor cannot have
      consented, so gets no location-based list.
    """
    if subject is None:
        return offers_default(limit=limit)
    personalised = may_process(subject, PERSONALISED_OFFERS)
    located = may_process(subject, LOCATION_FEATURES)
    if not (personalised or located):
        return offers_default(limit=limit)

    now = timezone.now()
    location = location_current(subject, now=now) if located else CurrentLocation()
    if located and country:
        country = country.strip().upper()
        if not _COUNTRY.match(country):
            raise ValueError("country must be an ISO 3166-1 alpha-2 code")
        location = CurrentLocation(
            country=country,
            position=location.position,
            position_recorded_at=location.position_recorded_at,
        )
    region = location.country if located else ""

    stated: set[int] = set()
    history: Counter[int] = Counter()
    if personalised:
        stated = set(
            TopicPreference.objects.filter(subject=subject).values_list("topic_id", flat=True)
        )
        history = _topic_history(subject, now)

    candidates = offers_listed()
    if region:
        candidates = candidates.filter(_available_in(region))
    items: list[tuple[int, float, int, OfferItem]] = []
    for rank, offer in enumerate(candidates[:CANDIDATES]):
        topics = list(offer.topics.all())
        matched = tuple(t for t in topics if t.pk in stated)
        seen = sum(min(history[t.pk], HISTORY_TOPIC_CAP) for t in topics)
        local = bool(region and offer.regions)
        distance = None
        if (
            location.position
            and offer.venue_latitude is not None
            and offer.venue_longitude is not None
        ):
            km = distance_km(location.position, offer.venue_latitude, offer.venue_longitude)
            distance = round(km) if km <= NEAR_KM else None
        score = (
            STATED_TOPIC_WEIGHT * len(matched)
            + seen
            + (LOCAL_WEIGHT if local else 0)
            + (NEAR_WEIGHT if distance is not None else 0)
        )
        item = OfferItem(offer, matched, bool(seen), local, distance)
        items.append((-score, distance if distance is not None else float("inf"), rank, item))
    items.sort(key=lambda entry: entry[:3])
    return OfferList(
        items=[entry[3] for entry in items[:limit]],
        personalised=personalised,
        located=located,
        country=region,
        location=location,
    )

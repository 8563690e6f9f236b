"""The offers catalogue (no personal data) and what we keep about a person's use of it.

`Topic` and `Offer` describe content: nobody's data. `TopicPreference`, `BrowsingEvent`
and `LocationFix` are personal data, each with a `subject` key and declared in
`privacy.py`; they are written only by the services, after purpose enforcement.
"""

import re
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from qualipact.privacy.fields import EncryptedTextField
from qualipact.privacy.models import DataSubject

# ISO 3166-1 alpha-2 codes, upper case, comma-separated, sorted; "" means everywhere.
REGIONS_PATTERN = re.compile(r"^(?:[A-Z]{2}(?:,[A-Z]{2})*)?$")
regions_validator = RegexValidator(
    REGIONS_PATTERN,
    "Regions are two-letter country codes separated by commas (GB,IE), or empty for everywhere.",
)


class Topic(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    """An article, event or promotion. Listed while published and not yet over."""

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        EVENT = "event", "Event"
        PROMOTION = "promotion", "Promotion"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    summary = models.TextField()
    topics = models.ManyToManyField(Topic, related_name="offers", blank=True)
    regions = models.CharField(max_length=200, blank=True, validators=[regions_validator])
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    # Where an event takes place: public facts about the venue, used to find events near
    # a person who shared an approximate position.
    venue_name = models.CharField(max_length=120, blank=True)
    venue_latitude = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    venue_longitude = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["published", "ends_on"], name="offer_listed")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="offer_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(venue_latitude__isnull=True, venue_longitude__isnull=True)
                | Q(
                    venue_latitude__gte=-90,
                    venue_latitude__lte=90,
                    venue_longitude__gte=-180,
                    venue_longitude__lte=180,
                ),
                name="offer_venue_position_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def region_codes(self) -> list[str]:
        return self.regions.split(",") if self.regions else []

    def available_in(self, country: str) -> bool:
        return not self.regions or country in self.region_codes

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "An offer cannot end before it starts."})
        if (self.venue_latitude is None) != (self.venue_longitude is None):
            raise ValidationError("A venue needs both its latitude and its longitude.")


class TopicPreference(models.Model):
    """A topic the person told us they are interested in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="topic_preferences"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "topic"], name="topic_preference_unique")
        ]

    def __str__(self) -> str:
        return f"Topic {self.topic_id} for {self.subject_id}"


class BrowsingEvent(models.Model):
    """One view of an offer by a known person who had consented to personalised offers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="browsing_events"
    )
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+")
    viewed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-viewed_at"]
        indexes = [
            models.Index(fields=["subject", "viewed_at"], name="browsing_subject_time"),
            models.Index(fields=["viewed_at"], name="browsing_time"),
        ]

    def __str__(self) -> str:
        return f"View of offer {self.offer_id} by {self.subject_id}"


class LocationFix(models.Model):
    """The person's latest location of one kind, already coarse when it arrives here.

    `country` is an ISO code; `position` is "lat,lon" rounded to two decimals (about
    1 km). Both are encrypted. The IP address and the browser's exact coordinates
    are never stored.
    """

    class Method(models.TextChoices):
        IP_COUNTRY = "ip_country", "Country from your internet connection"
        BROWSER = "browser", "Approximate position shared by your browser"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="location_fixes"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    country = EncryptedTextField(null=True, blank=True)
    position = EncryptedTextField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["recorded_at"], name="location_fix_time")]
        constraints = [
            # One current fix per person and kind: a new one replaces the old one.
            models.UniqueConstraint(fields=["subject", "method"], name="location_fix_unique"),
            models.CheckConstraint(
                condition=Q(method="ip_country", country__isnull=False, position__isnull=True)
                | Q(method="browser", country__isnull=True, position__isnull=False),
                name="location_fix_matches_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} location of {self.subject_id}"

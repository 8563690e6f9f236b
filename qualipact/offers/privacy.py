"""Personal data held by the offers app: stated interests, browsing history, location.

All three rest on consent, are read only while purpose enforcement allows it, and are
kept briefly. The retention engine deletes what has passed its retention, and at once
the rows of people who no longer consent (GDPR Art 17(1)(b)).
"""

from datetime import timedelta

from qualipact.offers.models import BrowsingEvent, LocationFix, TopicPreference
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

# Stated interests go stale: deleted two years after the person last changed them.
TOPIC_PREFERENCE_RETENTION = Retention(
    after="updated_at", period=timedelta(days=730), ends_with_consent="personalised_offers"
)
# Only recent browsing says anything useful about interests.
BROWSING_RETENTION = Retention(
    after="viewed_at", period=timedelta(days=90), ends_with_consent="personalised_offers"
)
# A location is only worth keeping while the person is likely still there.
LOCATION_RETENTION = Retention(
    after="recorded_at", period=timedelta(days=30), ends_with_consent="location_features"
)

personal_data(
    TopicPreference,
    label="topic you chose",
    label_plural="topics you chose",
    purposes=["personalised_offers"],  # legal basis: consent, from the purpose
    source=Source.PROVIDED,
    retention=TOPIC_PREFERENCE_RETENTION,
    fields={"topic": PersonalField(Category.ACCOUNT)},  # a preference the person stated
    non_personal=["id", "subject", "created_at", "updated_at"],
)

personal_data(
    BrowsingEvent,
    label="offer you viewed",
    label_plural="offers you viewed",
    purposes=["personalised_offers"],
    source=Source.AUTOMATIC,
    retention=BROWSING_RETENTION,
    fields={
        # Which offer a person looked at, and when: their activity on our site.
        "offer": PersonalField(Category.TECHNICAL),
        "viewed_at": PersonalField(Category.TECHNICAL),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

personal_data(
    LocationFix,
    label="location",
    label_plural="locations",
    purposes=["location_features"],
    source=Source.AUTOMATIC,
    retention=LOCATION_RETENTION,
    fields={
        "method": PersonalField(Category.LOCATION, label="how the location was found"),
        "country": PersonalField(Category.LOCATION, encrypted=True, source=Source.DERIVED),
        "position": PersonalField(Category.LOCATION, encrypted=True),
        "recorded_at": PersonalField(Category.LOCATION),
    },
    non_personal=["id", "subject", "created_at", "updated_at"],
)

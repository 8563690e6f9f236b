from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from qualipact.offers.models import Offer
from qualipact.offers.services import offer_create, topic_get_or_create

TOPICS = {
    "privacy": "Privacy",
    "security": "Security",
    "customer-service": "Customer service",
    "product-news": "Product news",
    "events": "Events and meet-ups",
    "training": "Training",
}


def demo_offers(today):  # type: ignore[no-untyped-def]
    """A small catalogue: articles, events and promotions, some only in a few countries."""
    return [
        {
            "slug": "what-we-do-with-your-data",
            "title": "What we do with your data, in plain words",
            "kind": Offer.Kind.ARTICLE,
            "summary": "A five-minute tour of the data we hold, why, and for how long.",
            "topics": ["privacy"],
        },
        {
            "slug": "passkeys-explained",
            "title": "Passkeys explained",
            "kind": Offer.Kind.ARTICLE,
            "summary": "Why a passkey is safer than a password, and how to set one up.",
            "topics": ["security", "product-news"],
        },
        {
            "slug": "faster-answers-from-support",
            "title": "Faster answers from our support team",
            "kind": Offer.Kind.ARTICLE,
            "summary": "How we now answer most questions within one working day.",
            "topics": ["customer-service", "product-news"],
        },
        {
            "slug": "bristol-privacy-meetup",
            "title": "Privacy meet-up in Bristol",
            "kind": Offer.Kind.EVENT,
            "summary": "An evening of short talks on privacy engineering, with time for questions.",
            "topics": ["privacy", "events"],
            "regions": ["GB"],
            "starts_on": today + timedelta(days=21),
            "venue_name": "Watershed, Bristol",
            "venue_latitude": "51.4510",
            "venue_longitude": "-2.5977",
        },
        {
            "slug": "dublin-security-workshop",
            "title": "Hands-on security workshop in Dublin",
            "kind": Offer.Kind.EVENT,
            "summary": "A morning workshop: protecting customer accounts with MFA and passkeys.",
            "topics": ["security", "training", "events"],
            "regions": ["IE", "GB"],
            "starts_on": today + timedelta(days=35),
            "venue_name": "Dublin Docklands",
            "venue_latitude": "53.3478",
            "venue_longitude": "-6.2297",
        },
        {
            "slug": "berlin-customer-day",
            "title": "Customer day in Berlin",
            "kind": Offer.Kind.EVENT,
            "summary": "Meet the team, see what is coming next and tell us what you need.",
            "topics": ["customer-service", "events", "product-news"],
            "regions": ["DE", "AT", "CH"],
            "starts_on": today + timedelta(days=49),
            "venue_name": "Kulturbrauerei, Berlin",
            "venue_latitude": "52.5390",
            "venue_longitude": "13.4127",
        },
        {
            "slug": "online-training-discount",
            "title": "20% off our online privacy training",
            "kind": Offer.Kind.PROMOTION,
            "summary": "Our self-paced data protection course for small teams, at a reduced price.",
            "topics": ["training", "privacy"],
            "starts_on": today,
            "ends_on": today + timedelta(days=60),
        },
        {
            "slug": "france-support-plan",
            "title": "Premium support plan: first three months free",
            "kind": Offer.Kind.PROMOTION,
            "summary": "Priority answers in French from our Lyon team, free for three months.",
            "topics": ["customer-service"],
            "regions": ["FR", "BE", "CH"],
            "starts_on": today,
            "ends_on": today + timedelta(days=90),
        },
    ]


class Command(BaseCommand):
    help = (
        "Add demo topics and offers (articles, events, promotions) to the catalogue. Holds no "
        "personal data. Adds only offers whose slug is new; changes and deletes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any offer exists already"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["if_empty"] and Offer.objects.exists():
            self.stdout.write("offers already present; nothing to do")
            return
        created = 0
        with transaction.atomic():
            for slug, name in TOPICS.items():
                topic_get_or_create(slug=slug, name=name)
            existing = set(Offer.objects.values_list("slug", flat=True))
            for offer in demo_offers(timezone.now().date()):
                if offer["slug"] not in existing:
                    offer_create(**offer)
                    created += 1
        self.stdout.write(f"added {created} demo offers")

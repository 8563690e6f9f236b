import random
import sys

from django.core.management.base import BaseCommand
from django.db import transaction
from faker import Faker
from tqdm import tqdm

from qualipact.contact.models import Inquiry
from qualipact.contact.services import inquiry_submit

TOPICS = {
    Inquiry.Kind.GENERAL: [
        ("Question about my order", "I ordered last week and would like to know when it ships."),
        ("Opening hours", "Are your offices open on public holidays? I would like to visit."),
        ("Partnership", "We would like to discuss a partnership with your team next month."),
    ],
    Inquiry.Kind.PRIVACY: [
        ("Copy of my data", "Please send me a copy of all the personal data you hold about me."),
        ("Correct my address", "My postal address changed; please update it in your records."),
        ("Delete my data", "Please erase all personal data you have about me."),
    ],
    Inquiry.Kind.COMPLAINT: [
        ("Unwanted email", "I received a marketing email although I never subscribed to it."),
    ],
}


class Command(BaseCommand):
    help = (
        "Create realistic demo people and their inquiries through the services, so the data "
        "is encrypted like real data. Adds rows; deletes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--people", type=int, default=25, help="how many people to create")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any inquiry exists already"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["if_empty"] and Inquiry.objects.exists():
            self.stdout.write("demo data already present; nothing to do")
            return
        people = int(options["people"])  # type: ignore[call-overload]
        seed = int(options["seed"])  # type: ignore[call-overload]
        fake = Faker(["en_GB", "de_DE", "fr_FR", "en_US"])
        fake.seed_instance(seed)
        rng = random.Random(seed)  # noqa: S311 (repeatable demo data, not a secret)
        created = 0
        quiet = not sys.stderr.isatty()
        for _ in tqdm(range(people), unit="person", file=sys.stderr, disable=quiet):
            name = fake.name()
            email = fake.unique.email()
            with transaction.atomic():
                for _ in range(rng.randint(1, 3)):
                    kind = rng.choice(list(TOPICS))
                    subject_line, message = rng.choice(TOPICS[kind])
                    inquiry_submit(
                        kind=kind,
                        name=name,
                        email=email,
                        phone=fake.phone_number() if rng.random() < 0.5 else "",
                        postal_address=fake.address() if rng.random() < 0.3 else "",
                        subject_line=subject_line,
                        message=message,
                    )
                    created += 1
        self.stdout.write(f"created {people} people with {created} inquiries")

import importlib

import pytest
from django.core.cache import cache

from qualipact.privacy import vault


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty caches: rate-limit counters, shred epoch, unwrapped keys."""
    cache.clear()
    vault.key_cache_clear()
    yield
    vault.key_cache_clear()


# Named personas, each a real person written through the contact form service.
PERSONAS = {
    "alice": {
        "name": "Alice Marchetti",
        "email": "alice.marchetti@example.org",
        "phone": "+44 20 7946 0018",
        "postal_address": "12 Larkspur Row, Bristol BS1 4DJ",
        "subject_line": "Question about invoices",
        "message": "Could you resend my invoice from March? Reference AM-7731.",
    },
    "bob": {
        "name": "Bob Okonkwo",
        "email": "bob.okonkwo@example.net",
        "phone": "",
        "postal_address": "",
        "subject_line": "Please delete my data",
        "message": "I no longer use the service; please erase everything about me.",
    },
}


def submit_persona(name: str, *, kind: str = "general"):
    from qualipact.contact.services import inquiry_submit

    return inquiry_submit(kind=kind, **PERSONAS[name])


@pytest.fixture
def alice_inquiry():
    return submit_persona("alice")


@pytest.fixture
def bob_inquiry():
    return submit_persona("bob", kind="privacy")


@pytest.fixture
def published_policy():
    """Policy v1 as its data migration publishes it, for transactional tests.

    Transactional tests flush every table when they end, data-migration rows included,
    so one that runs after another finds no policy. Re-running the migration's
    idempotent step restores it.
    """
    from django.apps import apps

    migration = importlib.import_module("qualipact.notices.migrations.0002_publish_policy_v1")
    migration.publish_v1(apps, None)

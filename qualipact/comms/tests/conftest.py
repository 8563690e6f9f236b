"""Comms fixtures; the real SMTP server (`smtp`, `smtp_server`) is in the root conftest."""

import pytest

from conftest import PERSONAS, free_port
from qualipact.comms import tasks
from qualipact.privacy import enforcement
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_for_email


@pytest.fixture
def smtp_down(settings):
    """Django's SMTP backend pointed at a port where nothing listens."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture
def enqueued(monkeypatch):
    """Stand-in broker: records every send the services and tasks enqueue, in order."""
    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(tasks.send_email, "delay", lambda email_id: sent.append((email_id, None)))

    def apply_async(args, eta=None, **options):
        sent.append((args[0], eta))

    monkeypatch.setattr(tasks.send_email, "apply_async", apply_async)
    return sent


@pytest.fixture
def alice():
    return subject_for_email(email=PERSONAS["alice"]["email"], actor=Actor.system("test"))


class _Allow:
    def refusal(self, subject, purpose):
        return None

    def exclusion(self, purpose):
        return None


class _RefuseEverything:
    def refusal(self, subject, purpose):
        return "refused_by_test"

    def exclusion(self, purpose):
        return True


@pytest.fixture
def rules(monkeypatch):
    """Swap purpose-enforcement rules for one test; the originals come back afterwards."""
    monkeypatch.setattr(enforcement, "_rules", dict(enforcement._rules))

    class Rules:
        @staticmethod
        def consent_granted():
            enforcement.rule_register("consent", _Allow())

        @staticmethod
        def consent_withdrawn():
            enforcement.rule_register("consent", _RefuseEverything())

        @staticmethod
        def refuse_everything():
            enforcement.rule_register("refuse_everything", _RefuseEverything())

    return Rules

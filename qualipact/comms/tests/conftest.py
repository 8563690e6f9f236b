"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepted."""

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from conftest import PERSONAS
from qualipact.comms import tasks
from qualipact.privacy import enforcement
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_for_email


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every accepted message; can refuse or hold one."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # Answer RCPT TO or DATA with this reply instead of accepting, while set.
    rcpt_reply: str | None = None
    data_reply: str | None = None
    # Hold the n-th DATA (1-based) before accepting it, until `release` is set; the
    # held message is then refused (its client is gone by then).
    hold_at: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    data_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_seen += 1
            hold = self.data_seen == self.hold_at
        if hold:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Held by the test and never accepted"
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Accepted"

    @property
    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, recorder)
    finally:
        recorder.release.set()
        controller.stop()


@pytest.fixture
def smtp(smtp_server, settings):
    """Django's SMTP backend pointed at the test server; returns its recorder."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_TIMEOUT = 10
    return smtp_server.recorder


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

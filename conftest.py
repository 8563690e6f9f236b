import asyncio
import importlib
import importlib.util
import os
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
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


PASSWORD = "correct horse battery staple 42"


def account_for(name: str, **extra):
    """A verified account for a persona (username = the persona's name)."""
    from qualipact.accounts.services import account_create

    return account_create(
        username=name,
        email=PERSONAS[name]["email"],
        password=PASSWORD,
        email_verified=True,
        **extra,
    )


def reauthenticate(client, password: str = PASSWORD) -> None:
    """Confirm the password again, as allauth asks before sensitive changes."""
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302, response.status_code


@pytest.fixture
def alice_account():
    return account_for("alice")


@pytest.fixture
def bob_account():
    return account_for("bob")


@pytest.fixture
def staff_account():
    """A staff member with an authenticator app set up (staff pages require MFA)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from qualipact.accounts.services import account_create

    staff = account_create(
        username="stella",
        email="stella@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def alice_inquiry():
    return submit_persona("alice")


@pytest.fixture
def bob_inquiry():
    return submit_persona("bob", kind="privacy")


# Rows that data migrations insert (policy v1, the first consent wordings). Transactional
# tests flush every table when they end, these rows included, so each database test
# publishes them again first; the publishing steps are idempotent.
DATA_MIGRATIONS = [
    ("qualipact.notices.migrations.0002_publish_policy_v1", "publish_v1"),
    ("qualipact.consent.migrations.0002_first_wordings", "publish"),
]


@pytest.fixture(autouse=True)
def _data_migration_rows(request, _django_db_marker):
    if request.node.get_closest_marker("django_db") is None:
        return
    from django.apps import apps

    for module, step in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), step)(apps, None)


# -- the system Chromium, for browser tests ---------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium calls Google at start-up; the network here is closed,
    # and a stray browser request would muddy the "requests" assertions anyway.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Headless Chromium says "HeadlessChrome", which the statistics rightly take for a bot;
# a test browser that must be counted presents itself as the desktop Chrome a person uses.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
STORAGE_PROBE = """async () => ({
    local: Object.keys(window.localStorage),
    session: Object.keys(window.sessionStorage),
    indexedDB: (await indexedDB.databases()).map((db) => db.name),
    caches: await caches.keys(),
})"""


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def chromium_path():
    """The system Chromium; skip without it locally, but fail in CI where it must run."""
    path = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    problem = None
    if importlib.util.find_spec("playwright") is None:
        problem = "the playwright package is not installed (pip install -e '.[dev]')"
    elif not (path.is_file() and os.access(path, os.X_OK)):
        problem = f"no system Chromium at {path} (apt-get install chromium, or set CHROMIUM_PATH)"
    if problem is None:
        return str(path)
    if _ci():
        pytest.fail(f"{problem}; in CI the browser test must run, not skip", pytrace=False)
    pytest.skip(problem)


def watch(page, requests: list, console_errors: list) -> None:
    """Record every URL the page requests, and every console error and page error
    (a CSP violation or a failed asset shows up as a console error)."""
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(f"page error: {exc}"))


# -- a real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepted ---------


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


def run_deferred() -> None:
    """Do the work that forms taking an address left to the background (privacy.deferred),
    as the worker would."""
    from qualipact.privacy.deferred import deferred_run
    from qualipact.privacy.models import DeferredWork

    for work_id in DeferredWork.objects.order_by("created_at").values_list("pk", flat=True):
        assert deferred_run(work_id=work_id) == "done"


def deliver_queued() -> None:
    """Finish the background work of earlier requests, then send every queued outbox email
    through the outbox's real send path."""
    from qualipact.comms.models import OutboundEmail
    from qualipact.comms.services import email_send

    run_deferred()
    for email_id in OutboundEmail.objects.filter(status="queued").values_list("pk", flat=True):
        assert email_send(email_id=email_id).status == "sent"

import asyncio
import http.client
import importlib
import importlib.util
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from qualipact.privacy import vault
from qualipact.web.processes import child_start, group_stop


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
    # However slow the machine, a send to the local server does not time out (the limit
    # stays well inside the outbox's 300-second lease, as EMAIL_TIMEOUT must).
    settings.EMAIL_TIMEOUT = 120
    return smtp_server.recorder


def deliver_queued() -> None:
    """Send every queued outbox email through the outbox's real send path."""
    from qualipact.comms.models import OutboundEmail
    from qualipact.comms.services import email_send

    for email_id in OutboundEmail.objects.filter(status="queued").values_list("pk", flat=True):
        assert email_send(email_id=email_id).status == "sent"


# -- waiting, and the processes tests start ----------------------------------------------
#
# No test may depend on an idle machine. A test waits for a condition, never for a time:
# `wait_until` polls until the condition holds, and stops early only when a process it
# watches has died (the condition cannot come true then). Its one limit, WAIT_LIMIT_SECONDS,
# is far beyond any slow machine: it is there so a hung test ends with a message instead
# of never, not to judge speed.

WAIT_LIMIT_SECONDS = float(os.environ.get("QUALIPACT_TEST_WAIT_LIMIT", "900"))
# Playwright's own waits (navigation, actions, expect), in milliseconds: the same limit.
BROWSER_WAIT_MS = WAIT_LIMIT_SECONDS * 1000


def wait_until(
    condition: Callable[[], object],
    *,
    what: str,
    processes: Iterable[subprocess.Popen] = (),
    details: Callable[[], str] = lambda: "",
    poll: float = 0.1,
):
    """Poll `condition` until it returns something true, and return that. Fails when one
    of `processes` has exited first, or after WAIT_LIMIT_SECONDS (a hang)."""
    processes = list(processes)
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        if value := condition():
            return value
        if dead := [p.args for p in processes if p.poll() is not None]:
            pytest.fail(f"while waiting for {what}, {dead} exited\n{details()}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen (hung?)\n{details()}", pytrace=False)
        time.sleep(poll)


# One HTTP exchange with a server a test started may take this long before it is tried
# again (a slow answer is retried, not judged).
REQUEST_SECONDS = 30.0


def http_fetch(
    url: str, data: dict[str, str] | None = None, *, timeout: float = REQUEST_SECONDS
) -> tuple[int, dict, str] | None:
    """One request (a POST of the form `data` when given): (status, headers, body), or
    None when the exchange failed in transit for any reason (refused, reset, timed out
    while connecting or reading, cut short): the caller tries again, e.g. in `wait_until`."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, body, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        try:
            return error.code, dict(error.headers), error.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            return None
    except (OSError, http.client.HTTPException):
        return None


def server_start(command: list[str], *, log: Path, **popen) -> subprocess.Popen:
    """Start a server or worker for a test: in a process group of its own, its output
    appended to `log`, and bound to this pytest process (killed, pytest takes it along).
    Stop it with `server_stop`."""
    with log.open("a") as out:
        return child_start(command, stdout=out, stderr=subprocess.STDOUT, **popen)


def server_stop(process: subprocess.Popen, *, grace: float = 60.0) -> int:
    """Stop a server started by `server_start` with everything in its process group:
    SIGTERM, then SIGKILL after `grace` seconds. Returns its exit status."""
    return group_stop(process, grace=grace)


@dataclass(frozen=True)
class Proc:
    """One process, told apart from a later one that reuses its pid by its start time."""

    pid: int
    start: int  # clock ticks after boot: field 22 of /proc/<pid>/stat

    def stat(self) -> list[str] | None:
        return proc_stat(self.pid)

    def alive(self) -> bool:
        """Running (a zombie has ended: only its reaping is left to its parent)."""
        fields = self.stat()
        return fields is not None and int(fields[19]) == self.start and fields[0] not in "ZX"

    def command(self) -> str:
        try:
            raw = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return ""
        return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_tree(root: int) -> set[Proc]:
    """Every living descendant of `root` (children, their children, ...), from /proc."""
    children: dict[int, list[Proc]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (fields := proc_stat(int(entry.name))) is None:
            continue
        if fields[0] in "ZX":
            continue
        children.setdefault(int(fields[1]), []).append(Proc(int(entry.name), int(fields[19])))
    found: set[Proc] = set()
    todo = [root]
    while todo:
        for proc in children.get(todo.pop(), []):
            if proc not in found:
                found.add(proc)
                todo.append(proc.pid)
    return found


# -- clocks that do not move under a test ---------------------------------------------------


class PinnedClock:
    """Stands in for the `time` module inside one module of the code under test: its
    `time()` stays where it is until the test moves it with `advance()`, so a test never
    straddles a boundary (a TOTP window, a rate-limit window) because the machine is slow."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TotpClock(PinnedClock):
    """allauth's TOTP clock (every test, the live server's thread included): a code the
    test computes stays valid in its 30-second window until `advance()` moves on."""

    def __init__(self) -> None:
        super().__init__((int(time.time()) // 30) * 30 + 15)  # the middle of a window

    def advance(self, seconds: float = 30) -> None:
        super().advance(seconds)


@pytest.fixture(autouse=True)
def totp_clock(monkeypatch):
    from allauth.mfa.totp.internal import auth

    clock = TotpClock()
    monkeypatch.setattr(auth, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def rate_limit_clock(monkeypatch):
    """The fixed windows of qualipact.web.ratelimit: a test's requests all fall in one."""
    from qualipact.web import ratelimit

    clock = PinnedClock(time.time())
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


def totp_code(secret: str, used: set[str] | None = None) -> str:
    """The code of the current window of allauth's (pinned) TOTP clock; if this window's
    code is in `used`, the clock moves to the next window. The code is added to `used`."""
    import pyotp
    from allauth.mfa.totp.internal import auth

    used = set() if used is None else used
    while (code := pyotp.TOTP(secret).at(auth.time.time())) in used:
        auth.time.advance()
    used.add(code)
    return code


# Property tests judge results, never speed: no per-example deadline, no "too slow" check.
hypothesis_settings.register_profile(
    "qualipact", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("qualipact")


# -- the browser ---------------------------------------------------------------------------


def browser_launch(pw, chromium_path: str):
    """The system Chromium, headless; every Playwright wait (launch, navigation, actions,
    `expect`) gets the suite's generous limit instead of Playwright's 5 and 30 seconds."""
    from playwright.sync_api import expect

    expect.set_options(timeout=BROWSER_WAIT_MS)
    return pw.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS, timeout=BROWSER_WAIT_MS
    )


def browser_context(browser, **options):
    """A new browser context (Playwright's `new_context(**options)`) with the same limit."""
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_WAIT_MS)
    context.set_default_navigation_timeout(BROWSER_WAIT_MS)
    return context

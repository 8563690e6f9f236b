import asyncio
import contextlib
import http.client
import importlib
import importlib.util
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
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
from qualipact.web import logcapture
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


# -- personal data in logs: every record of the session, every logger, scanned at the end --
#
# Every record any logger hands to its handlers, in this process and in the processes the
# tests start (the site, its workers), is copied to a directory (qualipact.web.logcapture,
# switched on by QUALIPACT_LOG_SCAN_DIR, which subprocesses inherit). When the session
# ends, the copy is scanned for what a person typed or what identifies them: email
# addresses, client IP addresses, link tokens, the personas' names, phone numbers and
# postal addresses, and every value saved into a field the registry declares personal
# (usernames, names, messages...) during the session. Any hit fails the run.

LOG_SCAN_DIR = tempfile.mkdtemp(prefix="qualipact-logscan-")
os.environ[logcapture.ENV] = LOG_SCAN_DIR
logcapture.tee_to_directory(LOG_SCAN_DIR)
# Records of this logger are planted on purpose by the scan's own test.
PLANTED_LOGGER = "qualipact.tests.planted"
# What the site itself writes in logs and mail headers: not a person's address.
SYSTEM_ADDRESS_DOMAINS = ("qualipact.localhost", "qualipact.example")
# Categories whose values a person typed or that identify them; others (account flags,
# consent states) are codes that log lines may well contain.
SCANNED_CATEGORIES = (
    "identity",
    "contact",
    "communication",
    "employment",
    "location",
    "identifier",
    "technical",
)
_SEEN_VALUES: set[str] = set()
_ISSUED_TOKENS: set[str] = set()
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


@dataclass(frozen=True)
class LogLeak:
    kind: str
    logger: str
    test: str
    excerpt: str

    def __str__(self) -> str:
        return (
            f"{self.kind} in a record of {self.logger!r} ({self.test or 'no test'}): {self.excerpt}"
        )


def _is_client_ip(text: str, match: re.Match) -> bool:
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return False
    before = text[max(0, match.start() - 3) : match.start()]
    after = text[match.end() : match.end() + 1]
    # A server's own address in a URL or as host:port (gunicorn's "Listening at") is not a
    # client's; an address standing alone, as axes wrote them, is.
    if before.endswith("://") or (after == ":" and address.is_loopback):
        return False
    return not address.is_unspecified


def url_routes() -> list[str]:
    """The route of every URL pattern the site serves, as the URL resolver lists them."""
    from django.urls import URLPattern, URLResolver, get_resolver

    routes = []

    def walk(patterns, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                routes.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return routes


def _token_paths() -> re.Pattern:
    """Every URL whose route carries a token, with anything but [token] in its place."""
    prefixes = {
        re.escape(route.split("<str:token>")[0]) for route in url_routes() if "<str:token>" in route
    }
    return re.compile("(?:" + "|".join(sorted(prefixes)) + r")(?!\[token\])[^/\s'\"]+")


def _route_words() -> set[str]:
    """The words of the site's own URL routes ("preferences", "fresh", "link"): a value
    someone typed that equals one cannot be told apart from a path in a log line."""
    return {w for route in url_routes() for w in re.findall(r"[A-Za-z]+", route)}


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _values_pattern(values, *, ignore: set[str] = frozenset()) -> re.Pattern | None:
    # An address stored from a request (a session's client address) is judged by the
    # client-address check, which knows a server's own address in a URL from a client's.
    words = sorted(
        {
            v
            for v in values
            if len(v) >= 4 and not v.isdigit() and v not in ignore and not _is_ip_address(v)
        },
        key=len,
        reverse=True,
    )
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def log_leaks(records, *, values=(), tokens=()) -> list[LogLeak]:
    """What in these records (dicts with logger, test and text) identifies a person."""
    persona_values = [v for persona in PERSONAS.values() for v in persona.values() if v]
    persona_values += [part for p in PERSONAS.values() for part in p["name"].split()]
    people = _values_pattern([*persona_values, *values], ignore=_route_words())
    issued = _values_pattern(tokens)
    token_paths = _token_paths()
    leaks = []
    for record in records:
        text = record["text"]
        found = []
        for match in EMAIL_RE.finditer(text):
            if not match.group(0).lower().endswith(SYSTEM_ADDRESS_DOMAINS):
                found.append(("an email address", match))
        for regex in (IPV4_RE, IPV6_RE):
            found += [
                ("a client IP address", m) for m in regex.finditer(text) if _is_client_ip(text, m)
            ]
        found += [("a link token", m) for m in token_paths.finditer(text)]
        for kind, pattern in (("a value a person typed", people), ("a link token", issued)):
            if pattern is not None:
                found += [(kind, m) for m in pattern.finditer(text)]
        for kind, match in found:
            excerpt = text[max(0, match.start() - 60) : match.end() + 20].replace("\n", " ")
            found_text = f"{excerpt} (found: {match.group(0)!r})"
            leaks.append(LogLeak(kind, record["logger"], record["test"], found_text))
    return leaks


def captured_log_records(directory: str = LOG_SCAN_DIR) -> list[dict]:
    records = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def _remember_personal_values(sender, instance, **kwargs) -> None:
    from qualipact.privacy.registry import registry

    declaration = registry.get(sender)
    if declaration is None:
        return
    for name, spec in declaration.fields.items():
        if str(spec.category) not in SCANNED_CATEGORIES:
            continue
        value = instance.__dict__.get(sender._meta.get_field(name).attname)
        if isinstance(value, str) and value.strip():
            _SEEN_VALUES.add(value.strip())


def _remember_tokens(token_urlsafe):
    def issued(nbytes=None):
        token = token_urlsafe(nbytes)
        if len(token) >= 32:
            _ISSUED_TOKENS.add(token)
        return token

    return issued


def _refuse_text_too_long_as_postgresql_does(sender, instance, using=None, **kwargs) -> None:
    """SQLite stores any length in a varchar column; PostgreSQL refuses what is longer
    than max_length (DataError, a 500 where a form did not check it first). On SQLite
    the suite refuses it the same way, for every model, third-party ones included."""
    from django.db import DataError, connections, models

    if connections[using or "default"].vendor != "sqlite":
        return
    for column in sender._meta.concrete_fields:
        if not isinstance(column, models.CharField) or not column.max_length:
            continue
        value = getattr(instance, column.attname, None)
        if isinstance(value, str) and len(value) > column.max_length:
            raise DataError(
                f"value too long for type character varying({column.max_length}): "
                f"{sender._meta.label}.{column.name} (the suite's PostgreSQL rule on SQLite)"
            )


def pytest_sessionstart(session):
    from django.db.models.signals import post_save, pre_save

    post_save.connect(_remember_personal_values, weak=False, dispatch_uid="log-scan-values")
    pre_save.connect(
        _refuse_text_too_long_as_postgresql_does, weak=False, dispatch_uid="varchar-lengths"
    )
    secrets.token_urlsafe = _remember_tokens(secrets.token_urlsafe)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    records = [r for r in captured_log_records() if r["logger"] != PLANTED_LOGGER]
    leaks = log_leaks(records, values=_SEEN_VALUES, tokens=_ISSUED_TOKENS)
    processes = len(list(Path(LOG_SCAN_DIR).glob("*.jsonl")))
    session.config.stash[_LOG_LEAKS] = (len(records), processes, leaks)
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    shutil.rmtree(LOG_SCAN_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    scanned, processes, leaks = config.stash.get(_LOG_LEAKS, (0, 0, []))
    where = f"{scanned} log records from {processes} process(es)"
    if leaks:
        terminalreporter.section("personal data in logs", sep="=", red=True, bold=True)
        for leak in leaks[:200]:
            terminalreporter.write_line(str(leak))
        terminalreporter.write_line(f"{len(leaks)} finding(s) in {where}")
    else:
        terminalreporter.write_line(f"log scan: no personal data in {where}")


_LOG_LEAKS = pytest.StashKey[tuple]()


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


# Callers of the API, one per way it knows who is asking.


@pytest.fixture
def alice_client(client, alice_account):
    client.force_login(alice_account)
    return client


def role_give(user, role):
    """Put `user` in the role's group, as `staff_grant` would (no audit, no email): for
    tests of pages, not of granting."""
    from django.contrib.auth.models import Group

    from qualipact.web.roles import ROLE_GROUPS

    group, _ = Group.objects.get_or_create(name=ROLE_GROUPS[role])
    user.groups.add(group)
    user.__dict__.pop("_staff_roles", None)
    return user


@pytest.fixture
def dpo_user(staff_account):
    from qualipact.web.roles import Role

    return role_give(staff_account, Role.DPO)


@pytest.fixture
def admin_account(staff_account):
    """The staff member Stella as an administrator (MFA set up)."""
    from qualipact.web.roles import Role

    return role_give(staff_account, Role.ADMINISTRATOR)


@pytest.fixture
def dpo_client(client, dpo_user):
    client.force_login(dpo_user)
    return client


@pytest.fixture
def link_token(alice_account):
    """A preference-link token for Alice, as her emails carry it."""
    from qualipact.consent.services import preference_link_issue

    return preference_link_issue(subject=alice_account.subject)


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


# -- nothing internal in any API error, in every test --------------------------------------

_UUID_TEXT = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_REPR_TEXT = re.compile(
    r"<[\w.]+ object at 0x|Traceback|File \"|\{'|\['|\bDecimal\(|\bUUID\(|\bdatetime\.|"
    r"\w+(Error|Exception):"
)


def internal_in(text: str) -> list[str]:
    """Model labels (with or without a field), UUIDs, Python reprs and tracebacks in `text`."""
    from django.apps import apps

    labels = {m._meta.label for m in apps.get_models(include_auto_created=True)}
    labels |= {label.lower() for label in labels}
    words = set(re.findall(r"\b[A-Za-z_][\w]*\.[A-Za-z_]\w*\b", text))
    return (
        sorted(words & labels)
        + _UUID_TEXT.findall(text)
        + [m.group(0) for m in _REPR_TEXT.finditer(text)]
    )


@pytest.fixture(autouse=True)
def api_errors(monkeypatch):
    """Every error the API answers during a test, whoever asked (test client, WSGI calls
    from schemathesis): each must be in the one shape and name nothing internal."""
    from django.core.handlers.base import BaseHandler

    seen: list[tuple[str, int, bytes]] = []
    original = BaseHandler.get_response

    def recording(self, request):
        response = original(self, request)
        if request.path.startswith("/api/") and response.status_code >= 400:
            seen.append((request.path, response.status_code, response.content))
        return response

    monkeypatch.setattr(BaseHandler, "get_response", recording)
    yield seen
    problems = []
    for path, status, content in seen:
        text = content.decode("utf-8", "replace")
        try:
            body = json.loads(text)
            shaped = set(body) == {"error"} and set(body["error"]) == {
                "code",
                "message",
                "details",
            }
        except (ValueError, TypeError):
            shaped = False
        if not shaped or internal_in(text):
            problems.append((path, status, text[:300], internal_in(text)))
    assert not problems, problems


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


def contact_form_send(page, base: str, *, kind: str, fields: dict, country: str = "") -> None:
    """As a visitor, or as the person the page is signed in as: follow "Contact" in the
    home page's main navigation, choose `kind` (and `country`, for a complaint), fill
    `fields` (form field name -> value; signed in, the address is the account's and not
    to be filled), send, and wait for the thanks page of that kind (`?<kind>=1`)."""
    page.goto(base + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contact").click()
    page.wait_for_url(base + "/contact/")
    page.select_option("select[name=kind]", kind)
    if country:
        page.select_option("select[name=country]", country)
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    thanks = f"{base}/contact/thanks/?{kind}=1"
    with page.expect_navigation(url=lambda url: url == thanks):
        page.get_by_role("button", name="Send").click()

"""The production ways in: one email on standard input, and a mailbox read over IMAP."""

import imaplib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import free_port, server_start, server_stop, wait_until
from qualipact.privacy.errors import ApplicationError
from qualipact.support.addresses import reply_address
from qualipact.support.inbound import EMAIL_MAX_BYTES, mailbox_poll
from qualipact.support.models import TicketMessage
from qualipact.support.tests.conftest import reply_email

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
ROOT = Path(__file__).resolve().parents[3]


def stdin_receive(monkeypatch, raw: bytes, *args: str) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("support_mail_receive", *args, stdout=out)
    return out.getvalue().strip()


def test_it_takes_an_email_piped_to_the_command(monkeypatch, ticket):
    raw = reply_email(to=reply_address(ticket))

    assert stdin_receive(monkeypatch, raw) == "email added"
    assert stdin_receive(monkeypatch, raw) == "email duplicate"

    assert TicketMessage.objects.filter(inquiry=ticket).count() == 1


def test_it_takes_the_envelope_recipient_from_the_command_line(monkeypatch, ticket):
    raw = reply_email(to="support@qualipact.localhost")

    assert stdin_receive(monkeypatch, raw) == "email unknown_address"
    assert stdin_receive(monkeypatch, raw, "--recipient", reply_address(ticket)) == "email added"


def test_it_exits_zero_for_an_email_refused_on_purpose(monkeypatch, ticket):
    raw = reply_email(to=reply_address(ticket), headers={"Auto-Submitted": "auto-replied"})

    assert stdin_receive(monkeypatch, raw) == "email auto_reply"


def test_it_fails_with_a_clear_message_on_input_that_is_not_an_email(monkeypatch):
    with pytest.raises(CommandError, match=r"Not an email message \(RFC 5322\): empty input"):
        stdin_receive(monkeypatch, b"")


def test_the_command_exits_non_zero_on_input_that_is_not_an_email():
    # The real process, as an MTA pipe runs it: the exit status is what the MTA reads.
    done = subprocess.run(
        [sys.executable, "manage.py", "support_mail_receive"],
        input=b"\x00\x01 not an email",
        capture_output=True,
        cwd=ROOT,
        check=False,
    )

    assert done.returncode == 1
    assert b"Not an email message (RFC 5322): no header fields" in done.stderr


# -- IMAP: the poll's loop against a stand-in server -----------------------------------
#
# No IMAP server is started here: `FakeImap` answers the imaplib calls `mailbox_poll`
# makes (UID SEARCH/FETCH/STORE, EXPUNGE) the way RFC 9051 servers do, and keeps flags.


class FakeImap:
    def __init__(self, messages: list[bytes], *, folder: str = "INBOX") -> None:
        self.messages = {str(n): raw for n, raw in enumerate(messages, start=1)}
        self.flags: dict[str, set[str]] = {uid: set() for uid in self.messages}
        self.folder = folder
        self.logins: list[tuple[str, str]] = []
        self.logged_out = False

    def login(self, user, password):
        self.logins.append((user, password))
        return "OK", [b"LOGIN completed"]

    def select(self, mailbox="INBOX", readonly=False):
        if mailbox != self.folder:
            return "NO", [b"Mailbox does not exist"]
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command, *args):
        if command == "SEARCH":
            assert args == ("UNSEEN",)
            unseen = [uid for uid in self.messages if "\\Seen" not in self.flags[uid]]
            return "OK", [" ".join(unseen).encode()]
        if command == "FETCH":
            uid, what = args
            assert what == "(BODY.PEEK[])"  # PEEK: fetching alone flags nothing
            raw = self.messages[uid]
            return "OK", [(f"1 (UID {uid} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        if command == "STORE":
            uid, action, flags = args
            assert action == "+FLAGS"
            self.flags[uid].add(flags.strip("()"))
            return "OK", [b"STORE completed"]
        raise AssertionError(command)

    def expunge(self):
        for uid in [u for u, flags in self.flags.items() if "\\Deleted" in flags]:
            del self.messages[uid], self.flags[uid]
        return "OK", []

    def logout(self):
        self.logged_out = True
        return "BYE", []


@pytest.fixture
def imap_settings(settings):
    settings.SUPPORT_IMAP_HOST = "imap.qualipact.example"
    settings.SUPPORT_IMAP_USER = "replies@qualipact.example"
    settings.SUPPORT_IMAP_PASSWORD = "imap-password"
    settings.SUPPORT_IMAP_FOLDER = "INBOX"
    settings.SUPPORT_IMAP_DELETE = False
    return settings


def mailbox_of(ticket) -> list[bytes]:
    return [
        reply_email(to=reply_address(ticket), text="First reply."),
        reply_email(to="nobody@qualipact.example", text="Not for a ticket."),
        reply_email(to=reply_address(ticket), text="Away", headers={"Precedence": "bulk"}),
        b"\x00\x01 not an email",
        reply_email(to=reply_address(ticket), text="Second reply."),
    ]


def test_it_takes_each_unseen_email_of_the_mailbox_and_flags_it_seen(imap_settings, ticket):
    server = FakeImap(mailbox_of(ticket))
    seen_progress = []

    report = mailbox_poll(connect=lambda: server, progress=lambda r: seen_progress.append(r.total))

    assert report.counts == {"added": 2, "unknown_address": 1, "auto_reply": 1, "malformed": 1}
    assert str(report) == "5 messages: 2 added, 1 auto_reply, 1 malformed, 1 unknown_address"
    assert seen_progress == [1, 2, 3, 4, 5]
    assert server.logins == [("replies@qualipact.example", "imap-password")]
    assert all(flags == {"\\Seen"} for flags in server.flags.values())
    assert server.logged_out
    bodies = [m.body for m in TicketMessage.objects.filter(inquiry=ticket)]
    assert bodies == ["First reply.", "Second reply."]

    # The next poll finds nothing new.
    assert str(mailbox_poll(connect=lambda: server)) == "0 messages"


def test_it_deletes_each_email_read_when_asked(imap_settings, ticket):
    server = FakeImap(mailbox_of(ticket))

    mailbox_poll(connect=lambda: server, delete=True)

    assert server.messages == {}
    assert TicketMessage.objects.filter(inquiry=ticket).count() == 2


def test_it_leaves_an_email_unseen_when_taking_it_failed(imap_settings, ticket):
    server = FakeImap([reply_email(to=reply_address(ticket))])

    def failing(*, raw):
        raise OSError("database unavailable")

    with pytest.raises(OSError):
        mailbox_poll(connect=lambda: server, receive=failing)

    assert server.flags == {"1": set()}  # read again at the next poll
    assert server.logged_out


def test_it_refuses_a_folder_the_server_does_not_have(imap_settings):
    imap_settings.SUPPORT_IMAP_FOLDER = "Support"

    with pytest.raises(ApplicationError, match="IMAP folder cannot be selected"):
        mailbox_poll(connect=lambda: FakeImap([]))


def test_the_poll_command_prints_its_counts(imap_settings, ticket, monkeypatch):
    server = FakeImap(mailbox_of(ticket)[:2])
    monkeypatch.setattr("qualipact.support.inbound.imap_connect", lambda: server)
    out = io.StringIO()

    call_command("support_imap_poll", stdout=out)

    assert out.getvalue().strip() == "2 messages: 1 added, 1 unknown_address"


def test_the_poll_command_needs_a_host(settings):
    settings.SUPPORT_IMAP_HOST = ""

    with pytest.raises(CommandError, match="SUPPORT_IMAP_HOST is not set"):
        call_command("support_imap_poll")


def beat_schedule(**env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BEAT_SCHEDULE))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "qualipact.settings", **env},
        capture_output=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout)


def test_beat_polls_the_mailbox_only_when_a_host_is_set():
    assert "support-mailbox-poll" not in beat_schedule(SUPPORT_IMAP_HOST="")
    entry = beat_schedule(SUPPORT_IMAP_HOST="imap.qualipact.example")["support-mailbox-poll"]

    assert entry == {"task": "qualipact.support.tasks.mailbox_poll", "schedule": 60.0}
    from qualipact.celery import app

    app.loader.import_default_modules()
    assert "qualipact.support.tasks.mailbox_poll" in app.tasks


# -- IMAP: the same poll against a real IMAP server ----------------------------------------
#
# pymap (a development dependency) serves an in-memory mailbox on 127.0.0.1. The test
# delivers with IMAP APPEND, as a provider's mailbox would hold the replies, and reads the
# flags back over IMAP. Plain IMAP on the loopback: production connects with TLS
# (`imap_connect`, IMAP4_SSL), the one step this does not exercise.


@pytest.fixture
def imap_server(tmp_path, imap_settings):
    port = free_port()
    log = tmp_path / "imap.log"
    process = server_start(
        [str(Path(sys.executable).with_name("pymap")), "--host", "127.0.0.1",
         "--port", str(port), "--no-tls", "dict",
         "--demo-user", imap_settings.SUPPORT_IMAP_USER,
         "--demo-password", imap_settings.SUPPORT_IMAP_PASSWORD],
        log=log,
    )  # fmt: skip
    try:
        wait_until(
            lambda: _imap_ready(port),
            what="the IMAP server",
            processes=[process],
            details=lambda: log.read_text() if log.exists() else "",
        )
        yield port
    finally:
        server_stop(process)


def _imap_ready(port: int) -> bool:
    try:
        imaplib.IMAP4("127.0.0.1", port, timeout=5).logout()
    except OSError:
        return False
    return True


def imap_session(port: int, settings) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    client.login(settings.SUPPORT_IMAP_USER, settings.SUPPORT_IMAP_PASSWORD)
    client.select("INBOX")
    return client


def test_it_polls_a_real_imap_mailbox(imap_server, imap_settings, ticket):
    client = imap_session(imap_server, imap_settings)
    for raw in mailbox_of(ticket):
        assert client.append("INBOX", None, None, raw)[0] == "OK"
    status, data = client.uid("SEARCH", "UNSEEN")
    ours = data[0].split()
    client.logout()
    assert status == "OK" and len(ours) == 5

    report = mailbox_poll(connect=lambda: imaplib.IMAP4("127.0.0.1", imap_server, timeout=60))

    assert report.counts == {"added": 2, "unknown_address": 1, "auto_reply": 1, "malformed": 1}
    bodies = [m.body for m in TicketMessage.objects.filter(inquiry=ticket)]
    assert bodies == ["First reply.", "Second reply."]
    client = imap_session(imap_server, imap_settings)
    assert client.uid("SEARCH", "UNSEEN") == ("OK", [b""])
    assert client.uid("SEARCH", "SEEN")[1][0].split() == ours
    client.logout()

    # Deleting instead: the next emails are gone from the mailbox once read.
    client = imap_session(imap_server, imap_settings)
    client.append("INBOX", None, None, reply_email(to=reply_address(ticket), text="Third."))
    client.logout()
    report = mailbox_poll(
        connect=lambda: imaplib.IMAP4("127.0.0.1", imap_server, timeout=60), delete=True
    )
    assert str(report) == "1 message: 1 added"
    client = imap_session(imap_server, imap_settings)
    assert client.uid("SEARCH", "ALL")[1][0].split() == ours
    client.logout()


def test_it_reads_an_oversized_email_to_its_end_and_refuses_it(monkeypatch, ticket):
    stdin = io.BytesIO(reply_email(to=reply_address(ticket)) + b"x" * (EMAIL_MAX_BYTES + 10))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
    out = io.StringIO()

    call_command("support_mail_receive", stdout=out)

    assert out.getvalue().strip() == "email too_large"
    assert stdin.read() == b""  # nothing left for the MTA to fail writing

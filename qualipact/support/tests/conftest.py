"""Shared fixtures of the support tests: a ticket, emails replying to it, and the
development mailbox (`manage.py mailbox_serve`) running as a real SMTP server."""

from __future__ import annotations

import os
import socket
import struct
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from mailbox import Maildir
from pathlib import Path
from subprocess import Popen

import pytest

from conftest import PERSONAS, free_port, server_start, server_stop, wait_until
from qualipact.privacy.tests.test_tasks import database_url

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ticket():
    """Alice's question, opened from the contact form (acknowledged through the outbox)."""
    from qualipact.support.services.tickets import ticket_open

    alice = PERSONAS["alice"]
    return ticket_open(
        kind="general",
        name=alice["name"],
        email=alice["email"],
        subject_line=alice["subject_line"],
        message=alice["message"],
    )


def reply_email(
    *,
    to: str,
    sender: str = PERSONAS["alice"]["email"],
    text: str | None = "Thank you, that answers my question.",
    html: str | None = None,
    files: Iterable[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """An email as a mail program sends it (RFC 5322, CRLF line ends): `text` and/or
    `html` as its body, each of `files` (name, content, declared content type) attached."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: We received your message"
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for name, content, declared in files:
        maintype, subtype = declared.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # as on the wire


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (RFC 2083): grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str = "Invoice") -> bytes:
    """A small, valid one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


@dataclass(frozen=True)
class SupportMailbox:
    """The development mailbox running for a test: send to host:port with smtplib."""

    host: str
    port: int
    maildir: Path
    log: Path
    process: Popen

    def kept(self) -> list[bytes]:
        """Every message it kept in its Maildir, as received (with its X- trace headers)."""
        return [message.as_bytes() for message in Maildir(self.maildir, create=False)]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture
def support_mailbox(tmp_path, django_db_setup):
    """`manage.py mailbox_serve` as `run_site` starts it, on a free port of 127.0.0.1, in
    a process group of its own bound to pytest (conftest.server_start), using the test
    databases: an email it receives for the support reply domain goes into its ticket
    before the SMTP server answers. Use it in a django_db(transaction=True, databases=
    ["default", "keys"]) test, so the process sees what the test wrote. Stopped by its
    process group."""
    host, port = "127.0.0.1", free_port()
    maildir = tmp_path / "mail"
    log = tmp_path / "mailbox.log"
    env = dict(
        os.environ,
        DATABASE_URL=database_url("default"),
        KEYS_DATABASE_URL=database_url("keys"),
        DJANGO_SETTINGS_MODULE="qualipact.settings",
        PYTHONUNBUFFERED="1",
    )
    process = server_start(
        [sys.executable, "-m", "django", "mailbox_serve",
         "--host", host, "--port", str(port), "--maildir", str(maildir)],
        log=log, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_until(
            lambda: _listening(host, port),
            what="the mailbox listening",
            processes=[process],
            details=lambda: log.read_text() if log.exists() else "",
        )
        yield SupportMailbox(host, port, maildir, log, process)
    finally:
        server_stop(process)

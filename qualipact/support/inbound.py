"""Inbound mail: an emailed reply to a ticket, taken into the ticket's thread.

One parser for every way mail arrives: the development mailbox (`web.mailbox`, under
`run_site`), an MTA's pipe or a mail provider's forwarding (`manage.py
support_mail_receive`), and a mailbox read over IMAP (`manage.py support_imap_poll`,
`mailbox_poll`). Each hands the raw message (RFC 5322) to `email_receive`.

- The ticket is found only by the address the email was sent to (the envelope's
  recipients, To, Cc, Delivered-To, X-Original-To): `support.addresses` makes one per
  ticket, HMAC-signed. The From header, which anyone can write, never finds a ticket; it
  is only compared with the ticket's address (`TicketMessage.sender_matches`).
- Automatic mail (RFC 3834 Auto-Submitted, Precedence bulk/junk/list, X-Autoreply, an
  empty Return-Path, delivery reports per RFC 3464) is dropped, so an out-of-office never
  loops with our acknowledgements.
- The text is the text/plain body (else the text/html one, as text), with quoted history
  and signature removed (`mail-parser-reply`).
- Attachments are kept, encrypted, when their content (never their name or declared
  type) is a PDF, PNG, JPEG or plain text, up to 5 MB each and 5 per email. Others are
  dropped, and the message says which and why, for staff.
- A refused email (unknown or forged address, automatic, too large, empty) is audited
  (1120, with its reason) and nothing of it is kept. Logs get outcome codes only.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.policy
import hashlib
import imaplib
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Any, Protocol

import puremagic
from bs4 import BeautifulSoup
from django.conf import settings
from django.db import transaction
from mailparser_reply import EmailReplyParser

from qualipact.contact.models import Inquiry
from qualipact.privacy.errors import ApplicationError
from qualipact.support import events
from qualipact.support.addresses import inquiry_id_of_address
from qualipact.support.models import TicketMessage
from qualipact.support.services.thread import MESSAGE_MAX, IncomingFile, message_receive

logger = logging.getLogger(__name__)

EMAIL_MAX_BYTES = 25 * 1024 * 1024  # a whole message, as received
FILE_MAX_BYTES = 5 * 1024 * 1024  # one attachment, decoded
FILES_MAX = 5  # attachments kept per email
# Content types decided from the bytes: what a file's content says it is.
FILE_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "text/plain": "plain text",
}
# Headers that may name the address the email was delivered to (RFC 5322 §3.6.3;
# Delivered-To and X-Original-To are written by the receiving MTA).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# Languages whose reply headers ("On ... wrote:") and signatures are recognised.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs"]
FILENAME_MAX = 200


class Outcome:
    """What `email_receive` did with an email (stored in audit rows and counted)."""

    ADDED = "added"
    DUPLICATE = "duplicate"
    UNKNOWN_ADDRESS = "unknown_address"
    TICKET_GONE = "ticket_gone"
    AUTO_REPLY = "auto_reply"
    TOO_LARGE = "too_large"
    NO_TEXT = "no_text"
    REFUSED = "refused"

    # Kept in a ticket, or already there: a delivery that needs no retry.
    KEPT = (ADDED, DUPLICATE)


@dataclass(frozen=True)
class InboundResult:
    """`outcome` (an `Outcome` code) and the message added to the thread (None unless
    "added")."""

    outcome: str
    message: TicketMessage | None = None

    @property
    def added(self) -> bool:
        return self.outcome == Outcome.ADDED


@dataclass(frozen=True)
class _Parts:
    text: str
    files: list[IncomingFile] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "name (reason)", for staff


# What the email package raises on input it cannot make sense of.
_PARSE_ERRORS = (
    ValueError, TypeError, IndexError, LookupError, AttributeError, email.errors.MessageError,
)  # fmt: skip


def _malformed(reason: str) -> ApplicationError:
    return ApplicationError(f"Not an email message (RFC 5322): {reason}", {"raw": "malformed"})


def _refuse(outcome: str) -> InboundResult:
    with transaction.atomic():
        events.email_refused_event(reason=outcome)
    logger.info("inbound email refused: %s", outcome)
    return InboundResult(outcome)


def _header_text(raw: str) -> str:
    """A raw header value as text: unfolded (RFC 5322 §2.2.3), RFC 2047 encoded words
    decoded (a long unstructured value may have been folded into some), and bytes that
    are not UTF-8 replaced."""
    text = " ".join(raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace").split())
    try:
        return " ".join(str(make_header(decode_header(text))).split())
    except (*_PARSE_ERRORS, UnicodeError):
        return text


def _headers(message: Message, name: str) -> list[str]:
    """Every value of header `name`, from the raw values: the structured parse of a
    damaged header can fail, and addresses, ids and the automatic-mail headers need
    none."""
    wanted = name.lower()
    return [
        _header_text(str(value))
        for header, value in message.raw_items()
        if header.lower() == wanted
    ]


def _header(message: Message, name: str) -> str:
    values = _headers(message, name)
    return values[0].strip() if values else ""


def _addresses(values: Sequence[str]) -> list[str]:
    return [address for _, address in getaddresses(list(values)) if "@" in address]


def is_automatic(message: Message) -> bool:
    """Whether the email was sent by a machine and must not be answered or kept: RFC
    3834's Auto-Submitted (anything but "no"), Precedence bulk/junk/list, the
    X-Autoreply / X-Autorespond headers of older responders, a null reverse path
    (Return-Path `<>`, RFC 5321 §4.5.5: bounces) or a delivery report (RFC 3464)."""
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "Precedence").lower() in ("bulk", "junk", "list"):
        return True
    if _headers(message, "X-Autoreply") or _headers(message, "X-Autorespond"):
        return True
    if [path for path in _headers(message, "Return-Path") if path.replace(" ", "") == "<>"]:
        return True
    return message.get_content_type() == "multipart/report"


def ticket_of(message: Message, *, recipients: Sequence[str] = ()) -> uuid.UUID | None:
    """The id of the ticket the email was sent to: the first of its envelope
    `recipients`, then its To, Cc, Delivered-To, X-Original-To and Envelope-To addresses,
    that is a valid reply address (`support.addresses`). Never the From header."""
    candidates = [*recipients]
    for name in RECIPIENT_HEADERS:
        candidates += _addresses(_headers(message, name))
    for address in candidates:
        if (inquiry_id := inquiry_id_of_address(address)) is not None:
            return inquiry_id
    return None


_HTML_BLOCKS = [
    "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "section", "article", "header", "footer",
]  # fmt: skip


def _html_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    # A quoted earlier email in HTML mail: Gmail's and Outlook's wrappers, <blockquote>.
    for quoted in soup.select("blockquote, div.gmail_quote, div#appendonsend, div#divRplyFwdMsg"):
        quoted.decompose()
    for hidden in soup(["script", "style", "head", "title"]):
        hidden.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    # A block ends its line; inline markup (<b>, <a>) stays within it.
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_before("\n")
        block.append("\n")
    text = soup.get_text()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decoded_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AssertionError):
        pass  # an unknown charset or a broken encoding: decoded leniently below
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


_TRAILING_QUOTE = re.compile(r"(?:\n[ \t]*>[^\n]*|\n[ \t]*)+\Z")


def reply_text(text: str) -> str:
    """What the person wrote in this email: `text` without the quoted history ("On ...
    wrote:", "-----Original Message-----", trailing "> " lines) and without a signature,
    by `mail-parser-reply`. Returns the whole text stripped when nothing else is left."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text)
    replies = parsed.replies
    latest = (replies[0].body or replies[0].content) if replies else ""
    latest = _TRAILING_QUOTE.sub("", "\n" + (latest or "")).strip()
    return latest or text


def file_type(content: bytes) -> str | None:
    """The allowed content type of `content`, decided from its bytes (`puremagic`'s
    signatures; plain text when it is UTF-8 without control characters), or None."""
    if not content:
        return None
    try:
        found = puremagic.from_string(content, mime=True)
    except (puremagic.PureError, ValueError):
        found = ""
    if found in FILE_TYPES and found != "text/plain":
        return found
    if found and found != "text/plain":
        return None  # another format (HTML, SVG, an archive, a program): not accepted
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    return "text/plain"


def _filename(part: Message, number: int) -> str:
    try:
        name = part.get_filename() or ""
    except (ValueError, TypeError, LookupError):
        name = ""
    name = _clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:FILENAME_MAX] or f"attachment-{number}"


def _parts(message: Message) -> Iterator[Message]:
    """Every leaf part of the message. An attached email (message/rfc822) is one leaf:
    its own parts are not opened."""
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _parts(part)
    else:
        yield message


def _body_part(message: EmailMessage) -> Message | None:
    for preference in (("plain",), ("html",)):
        try:
            part = message.get_body(preferencelist=preference)
        except (KeyError, ValueError, TypeError):
            part = None
        if part is not None:
            return part
    return None


def _is_alternative_body(part: Message) -> bool:
    """A text part that is a rendering of the body (the HTML twin of the plain text),
    not a file the person attached."""
    disposition = part.get_content_disposition()
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and disposition != "attachment"
        and not part.get_filename()
    )


def email_parts(message: EmailMessage) -> _Parts:
    """The reply's text and its files: accepted ones as `IncomingFile` (type decided from
    the content), refused ones as "name (reason)"."""
    body = _body_part(message)
    text = ""
    if body is not None:
        raw_text = _decoded_text(body)
        if body.get_content_type() == "text/html":
            raw_text = _html_text(raw_text)
        text = reply_text(raw_text)
    files: list[IncomingFile] = []
    refused: list[str] = []
    number = 0
    for part in _parts(message):
        if part is body or _is_alternative_body(part):
            continue
        number += 1
        name = _filename(part, number)
        if part.get_content_type() == "message/rfc822":
            refused.append(f"{name} (an attached email)")
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes) or not content:
            refused.append(f"{name} (empty)")
            continue
        if len(content) > FILE_MAX_BYTES:
            refused.append(f"{name} (larger than {FILE_MAX_BYTES // (1024 * 1024)} MB)")
            continue
        content_type = file_type(content)
        if content_type is None:
            allowed = ", ".join(FILE_TYPES.values())
            refused.append(f"{name} (not one of the accepted types: {allowed})")
            continue
        if len(files) >= FILES_MAX:
            refused.append(f"{name} (more than {FILES_MAX} files in one email)")
            continue
        files.append(IncomingFile(filename=name, content_type=content_type, content=content))
    return _Parts(text=text, files=files, refused=refused)


def _clean_text(text: str) -> str:
    """`text` as valid Unicode: undecodable bytes the parser kept (lone surrogates) are
    replaced, so it can be stored."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _body_with_notes(parts: _Parts) -> str:
    text = _clean_text(parts.text)
    notes = []
    if parts.refused:
        notes.append("[Files not accepted: " + "; ".join(parts.refused) + "]")
    room = MESSAGE_MAX - sum(len(n) + 2 for n in notes) - 80
    if len(text) > room:
        text = text[:room].rstrip()
        notes.insert(0, f"[The email was longer than {MESSAGE_MAX:,} characters: cut here]")
    return "\n\n".join([t for t in (text, *notes) if t])


def email_receive(*, raw: bytes, recipients: Sequence[str] = ()) -> InboundResult:
    """Take one received email (`raw`: its bytes as delivered, RFC 5322) into the thread
    of the ticket it was sent to, through `support.services.thread.message_receive`.

    `recipients`: the SMTP envelope's RCPT TO addresses when known (RFC 5321), looked at
    before the message's own To, Cc, Delivered-To and X-Original-To headers. Returns an
    `InboundResult`: "added" (with the message), "duplicate" (the same Message-ID was
    taken already: redelivery), or a refusal, audited (1120) with nothing kept:
    "too_large" (over EMAIL_MAX_BYTES), "auto_reply" (RFC 3834 and bounces),
    "unknown_address" (no valid reply address: unknown, forged or another domain),
    "ticket_gone" (the ticket was deleted), "no_text" (no text and no file kept) or
    "refused" (the ticket may not take it, e.g. its person's data was erased).

    Raises ApplicationError ({"raw": "malformed"}) when `raw` is not an email at all
    (empty, or no header fields); the error names no part of the message.
    """
    if len(raw) > EMAIL_MAX_BYTES:
        return _refuse(Outcome.TOO_LARGE)
    if not raw.strip():
        raise _malformed("empty input")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise _malformed("no header fields")
    try:
        automatic = is_automatic(message)
        inquiry_id = ticket_of(message, recipients=recipients)
        parts = email_parts(message) if inquiry_id is not None and not automatic else None
    except _PARSE_ERRORS:
        # The standard library's parser fails on some damaged structured headers.
        raise _malformed("a header or part cannot be parsed") from None
    if automatic:
        return _refuse(Outcome.AUTO_REPLY)
    if inquiry_id is None or parts is None:
        return _refuse(Outcome.UNKNOWN_ADDRESS)
    inquiry = Inquiry.objects.filter(pk=inquiry_id).first()
    if inquiry is None:
        return _refuse(Outcome.TICKET_GONE)
    body = _body_with_notes(parts)
    if not body and not parts.files:
        return _refuse(Outcome.NO_TEXT)
    senders = {a.lower() for a in _addresses(_headers(message, "From"))}
    # Without a Message-ID, the message's own bytes name it: the same bytes delivered
    # twice are kept once.
    email_id = _header(message, "Message-ID") or f"<sha256-{hashlib.sha256(raw).hexdigest()}>"
    try:
        # Reading the ticket's address fails too when its person's data was erased.
        sender_matches = (inquiry.email or "").strip().lower() in senders
        added = message_receive(
            inquiry=inquiry,
            kind=TicketMessage.Kind.EMAIL_IN,
            body=body,
            files=parts.files,
            email_id=email_id,
            sender_matches=sender_matches,
        )
    except ApplicationError as error:
        logger.info("inbound email not taken into its ticket: %s", error.code)
        return _refuse(Outcome.REFUSED)
    if added is None:
        logger.info("inbound email: %s", Outcome.DUPLICATE)
        return InboundResult(Outcome.DUPLICATE)
    logger.info("inbound email: %s", Outcome.ADDED)
    return InboundResult(Outcome.ADDED, added)


# -- reading a mailbox over IMAP (RFC 9051 / 3501), for providers without forwarding ----


class ImapClient(Protocol):
    """The part of `imaplib.IMAP4` that `mailbox_poll` uses."""

    def login(self, user: str, password: str) -> Any: ...
    def select(self, mailbox: str = ..., readonly: bool = ...) -> Any: ...
    def uid(self, command: str, *args: Any) -> Any: ...
    def expunge(self) -> Any: ...
    def logout(self) -> Any: ...


@dataclass
class PollReport:
    """How many messages a poll read, by outcome code (plus "malformed")."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def __str__(self) -> str:
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts.items()))
        noun = "message" if self.total == 1 else "messages"
        return f"{self.total} {noun}" + (f": {detail}" if detail else "")


def _fetched_bytes(data: Any) -> bytes | None:
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def imap_connect() -> imaplib.IMAP4:
    """An IMAP over TLS connection (RFC 8314) to SUPPORT_IMAP_HOST:SUPPORT_IMAP_PORT."""
    return imaplib.IMAP4_SSL(settings.SUPPORT_IMAP_HOST, settings.SUPPORT_IMAP_PORT, timeout=60)


def mailbox_poll(
    *,
    connect: Callable[[], ImapClient] | None = None,
    delete: bool | None = None,
    receive: Callable[..., InboundResult] = email_receive,
    progress: Callable[[PollReport], None] | None = None,
) -> PollReport:
    """Read every unseen message of the support mailbox over IMAP (RFC 9051: UID SEARCH
    UNSEEN, UID FETCH BODY.PEEK[]), logged in as SUPPORT_IMAP_USER with
    SUPPORT_IMAP_PASSWORD, in SUPPORT_IMAP_FOLDER, and pass each to `receive`
    (`email_receive`). Each message read is then flagged \\Seen, or when `delete` (by
    default SUPPORT_IMAP_DELETE) flagged \\Deleted and expunged at the end, whatever its
    outcome (a malformed one too, so it is not read again and again); a message whose
    handling failed otherwise (a database error, raised) stays unseen for the next poll.

    `connect` returns a client not yet logged in (by default `imap_connect`); `progress`
    is called after each message. Returns the counts per outcome. Raises what imaplib
    raises on a connection or login failure (`imaplib.IMAP4.error`, OSError), and
    ApplicationError ({"folder": "unknown"}) when the folder cannot be selected.
    """
    delete = settings.SUPPORT_IMAP_DELETE if delete is None else delete
    report = PollReport()
    client: ImapClient = (connect or imap_connect)()
    try:
        client.login(settings.SUPPORT_IMAP_USER, settings.SUPPORT_IMAP_PASSWORD)
        status, _ = client.select(settings.SUPPORT_IMAP_FOLDER)
        if status != "OK":
            raise ApplicationError("IMAP folder cannot be selected", {"folder": "unknown"})
        status, data = client.uid("SEARCH", "UNSEEN")
        uids = [u.decode() for u in (data[0] or b"").split()] if status == "OK" and data else []
        for message_uid in uids:
            status, data = client.uid("FETCH", message_uid, "(BODY.PEEK[])")
            raw = _fetched_bytes(data) if status == "OK" else None
            if raw is None:
                report.add("unreadable")
                continue
            try:
                outcome = receive(raw=raw).outcome
            except ApplicationError:
                outcome = "malformed"
            report.add(outcome)
            flag = "\\Deleted" if delete else "\\Seen"
            client.uid("STORE", message_uid, "+FLAGS", f"({flag})")
            if progress is not None:
                progress(report)
        if delete and uids:
            client.expunge()
    finally:
        # The connection may be gone already.
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    logger.info("support mailbox polled: %s", report)
    return report

"""Writes of the email outbox: queue an email, claim and send it, reconcile what was lost.

Delivery is at least once, and exactly once except in one window: the SMTP server
accepted the message and the process died before the row was marked sent. The claim
is a compare-and-set, so two workers never send the same row at the same time; a
resend after that window carries the same Message-ID. (A live worker that outlives its
lease could also race its successor; EMAIL_TIMEOUT far below the lease prevents it.)
See docs/architecture.md, "Communications: the email outbox".
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from qualipact.comms import events
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import purpose_decide
from qualipact.privacy.errors import ApplicationError, ProcessingRefused, SubjectShredded
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import LegalBasis, purpose_get
from qualipact.privacy.recipients import address_belongs_to

logger = logging.getLogger(__name__)

ACTOR = Actor.system("comms_outbox")
# Messages the person asked for or the law requires: they go whatever the person chose,
# to anyone not erased (Art 18(3) even requires telling a restricted person). A reset or
# verification link, a fresh preference link, a double opt-in confirmation
# (service_delivery); security notices that must go (security); answers to their
# messages (customer_support) and to their rights requests (data_subject_rights); what a
# law requires us to send, such as a parent's consent request (legal_compliance).
REQUIRED_PURPOSES = frozenset(
    {"service_delivery", "security", "customer_support", "data_subject_rights", "legal_compliance"}
)
# Header names are RFC 5322 field names; these are set by the outbox itself.
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")
_RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "message-id",
        "mime-version",
        "received",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)
# Pauses between tries at marking a delivered email sent (see _mark_sent).
_MARK_SENT_RETRY_DELAYS = (0.2, 1.0)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _max_attempts() -> int:
    return _setting("COMMS_EMAIL_MAX_ATTEMPTS", 5)


def _lease() -> timedelta:
    return timedelta(seconds=_setting("COMMS_EMAIL_LEASE_SECONDS", 300))


def _smtp_timeout() -> float:
    # A send must end well inside the lease, or a live worker's claim could expire.
    return float(getattr(settings, "EMAIL_TIMEOUT", None) or 30)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of failed attempts: 1, 2, 4, ... minutes."""
    base = _setting("COMMS_EMAIL_RETRY_BASE_SECONDS", 60)
    cap = _setting("COMMS_EMAIL_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


# -- queueing -------------------------------------------------------------------------


def _message_id_domain() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return getattr(settings, "COMMS_MESSAGE_ID_DOMAIN", "") or domain


def _message_id() -> str:
    return f"<{uuid.uuid4().hex}@{_message_id_domain()}>"


_THREAD_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,63}")


def thread_message_id(key: str) -> str:
    """The Message-ID (RFC 5322 §3.6.4) of the email that starts the conversation named
    `key` (letters, digits, dots and hyphens, at most 64): `<key@domain>`, the domain
    being the outbox's own. Give it to `email_queue(message_id=...)` for that first
    email, and put it in the In-Reply-To and References of every later one, so a mail
    program shows them as one thread. ValueError for a key outside that alphabet."""
    if not _THREAD_KEY.fullmatch(key):
        raise ValueError("A thread key is letters, digits, dots and hyphens")
    return f"<{key}@{_message_id_domain()}>"


def _checked_headers(headers: dict[str, str]) -> dict[str, str]:
    checked = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ApplicationError("An extra header has an invalid name", {"headers": "name"})
        if name.lower() in _RESERVED_HEADERS:
            raise ApplicationError(
                "An extra header would replace one the outbox sets", {"headers": "reserved"}
            )
        if not isinstance(value, str) or "\r" in value or "\n" in value or len(value) > 998:
            raise ApplicationError("An extra header has an invalid value", {"headers": "value"})
        checked[name] = value
    return checked


def email_kind(purpose: str) -> str:
    """Mail for a purpose that rests on consent is marketing (List-Unsubscribe required)."""
    basis = purpose_get(purpose).legal_basis
    return (
        OutboundEmail.Kind.MARKETING if basis is LegalBasis.CONSENT else OutboundEmail.Kind.SERVICE
    )


def _refusal(subject: DataSubject, purpose: str) -> tuple[str, ...]:
    """Why an email for this purpose may not go to this subject now; empty when it may.

    The one place that decides, by the email's purpose: an erased person gets nothing; a
    required message (REQUIRED_PURPOSES) goes whatever else holds; every other message
    goes through purpose enforcement in full, so consent, objections, restriction, a
    child's status and the person's own choices (accounts: "email me about my account")
    all count.
    """
    if subject.erased_at is not None:
        return ("erased",)
    if purpose in REQUIRED_PURPOSES:
        return ()
    return purpose_decide(subject, purpose).reasons


def _enqueue(email_id: uuid.UUID | str) -> None:
    # Imported here: the task module calls these services (tasks are thin).
    from qualipact.comms.tasks import send_email

    send_email.delay(str(email_id))


@transaction.atomic
def email_queue(
    *,
    subject: DataSubject,
    to: str,
    subject_line: str,
    body: str,
    purpose: str,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> OutboundEmail:
    """Store an email for the subject, encrypted, and schedule its sending on commit.

    `message_id` (from `thread_message_id`) is the Message-ID of an email that starts a
    conversation; by default each email gets a random one. Either way it stays the same
    on every resend.

    `purpose` says what kind of message it is (a code of privacy.purposes): it decides,
    here and again just before sending, whether the person gets it (`_refusal`). Raises
    `ProcessingRefused` (nothing stored) when they may not, `ApplicationError` on bad input
    (and `{"message_id": "used"}` for a `message_id` given before).
    """
    try:
        kind = email_kind(purpose)
    except KeyError:
        raise ApplicationError("Unknown email purpose", {"purpose": "invalid"}) from None
    to = to.strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ApplicationError("The recipient address is not valid", {"to": "invalid"}) from None
    required = {"subject_line": subject_line, "body": body}
    if missing := sorted(field for field, value in required.items() if not value.strip()):
        raise ApplicationError("Required fields are empty", {"fields": missing})
    if "\r" in subject_line or "\n" in subject_line:
        raise ApplicationError("The subject line is one line", {"subject_line": "multi_line"})
    extra = _checked_headers(headers or {})
    if message_id is not None and OutboundEmail.objects.filter(message_id=message_id).exists():
        raise ApplicationError("That Message-ID is used already", {"message_id": "used"})
    if kind == OutboundEmail.Kind.MARKETING and "list-unsubscribe" not in map(str.lower, extra):
        raise ApplicationError(
            "Marketing email needs a List-Unsubscribe header", {"headers": "list_unsubscribe"}
        )
    # Lock the person first, like subject_for_email: an erasure running now finishes
    # before this, and then nothing new is attached to them.
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    if reasons := _refusal(subject, purpose):
        raise ProcessingRefused(
            f"Email to subject {subject.pk} for purpose '{purpose}' is refused: "
            + ", ".join(reasons),
            {"purpose": purpose, "reasons": list(reasons)},
        )
    if not address_belongs_to(subject, to):
        # A message about a person goes to their own address only, whatever a form or an
        # API was given (privacy.recipients).
        raise ApplicationError(
            "The recipient is not an address of this person", {"to": "not_the_persons"}
        )
    email = OutboundEmail(
        subject=subject,
        kind=kind,
        purpose=purpose,
        to=to,
        subject_line=subject_line,
        body=body,
        headers=json.dumps(extra, sort_keys=True) if extra else None,
        message_id=message_id or _message_id(),
    )
    email.save()
    events.email_queued_event(email=email)
    # If the broker is down the row stays queued and the reconciler sends it later.
    transaction.on_commit(partial(_enqueue, email.pk), robust=True)
    return email


# -- claiming and sending ----------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    # "sent", "retry", "failed", or "skipped" (nothing to claim: not due, taken or gone).
    status: str
    retry_at: datetime | None = None


def email_claim(*, email_id: uuid.UUID | str) -> uuid.UUID | None:
    """Claim a due queued email for sending: one conditional UPDATE, so one claimant wins.

    Returns the claim token (the fence every later write of this claim checks), or None.
    """
    now = timezone.now()
    token = uuid.uuid4()
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmail.Status.QUEUED, next_attempt_at__lte=now
    ).update(
        status=OutboundEmail.Status.SENDING,
        claim_token=token,
        lease_expires_at=now + _lease(),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    return token if claimed else None


def _claimed(email_id: uuid.UUID | str, token: uuid.UUID) -> OutboundEmail | None:
    return (
        OutboundEmail.objects.select_related("subject")
        .filter(pk=email_id, claim_token=token, status=OutboundEmail.Status.SENDING)
        .first()
    )


def _message(email: OutboundEmail, connection: BaseEmailBackend) -> EmailMessage:
    headers = json.loads(email.headers) if email.headers else {}
    headers["Message-ID"] = email.message_id
    return EmailMessage(
        subject=email.subject_line,
        body=email.body,
        to=[email.to],
        headers=headers,
        connection=connection,
    )


def _close_quietly(connection: BaseEmailBackend) -> None:
    # QUIT comes after the message was accepted and marked sent: its failure changes nothing.
    try:
        connection.close()
    except Exception:
        logger.info("email connection did not close cleanly")


def email_send(*, email_id: uuid.UUID | str) -> SendOutcome:
    """Claim the email, send it through Django's email backend and record the outcome.

    Not atomic as a whole: the claim commits before the SMTP conversation, and the
    outcome is written in its own short transaction right after it.
    """
    token = email_claim(email_id=email_id)
    if token is None:
        return SendOutcome("skipped")
    email = _claimed(email_id, token)
    if email is None:  # erased between the claim and now
        return SendOutcome("skipped")
    if reasons := _refusal(email.subject, email.purpose):
        return _finish_failed(email, token, code="processing_refused", reasons=reasons)
    connection = get_connection(fail_silently=False, timeout=_smtp_timeout())
    try:
        message = _message(email, connection)
        connection.open()
        sent = connection.send_messages([message])
    except Exception as exc:
        _close_quietly(connection)
        return _record_failure(email, token, code=error_code(exc), permanent=is_permanent(exc))
    if sent != 1:
        _close_quietly(connection)
        return _record_failure(email, token, code="not_sent", permanent=False)
    # The at-least-once window is open from the server's acceptance until this commits.
    outcome = _mark_sent(email, token)
    _close_quietly(connection)
    return outcome


def _mark_sent(email: OutboundEmail, token: uuid.UUID) -> SendOutcome:
    # A busy database must not turn a delivered email into a resend: try a few times.
    for delay in (*_MARK_SENT_RETRY_DELAYS, None):
        try:
            return _mark_sent_once(email, token)
        except OperationalError:
            if delay is None or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("email %s delivered; marking it sent failed, retrying", email.pk)
            time.sleep(delay)
    raise AssertionError("unreachable")


@transaction.atomic
def _mark_sent_once(email: OutboundEmail, token: uuid.UUID) -> SendOutcome:
    now = timezone.now()
    marked = OutboundEmail.objects.filter(
        pk=email.pk, claim_token=token, status=OutboundEmail.Status.SENDING
    ).update(
        status=OutboundEmail.Status.SENT,
        sent_at=now,
        claim_token=None,
        lease_expires_at=None,
        last_error_code="",
        updated_at=now,
    )
    if not marked:
        # The lease ran out while this worker was still sending (or the row was erased):
        # another claim may send it again.
        logger.warning("email %s delivered after its claim was lost", email.pk)
        return SendOutcome("sent")
    events.email_sent_event(email=email)
    logger.info("email %s sent on attempt %s", email.pk, email.attempts)
    return SendOutcome("sent")


def _record_failure(
    email: OutboundEmail, token: uuid.UUID, *, code: str, permanent: bool
) -> SendOutcome:
    if permanent or email.attempts >= _max_attempts():
        return _finish_failed(email, token, code=code)
    now = timezone.now()
    retry_at = now + retry_delay(email.attempts)
    OutboundEmail.objects.filter(
        pk=email.pk, claim_token=token, status=OutboundEmail.Status.SENDING
    ).update(
        status=OutboundEmail.Status.QUEUED,
        next_attempt_at=retry_at,
        claim_token=None,
        lease_expires_at=None,
        last_error_code=code,
        updated_at=now,
    )
    logger.warning(
        "email %s attempt %s failed (%s); next attempt at %s",
        email.pk,
        email.attempts,
        code,
        retry_at.isoformat(),
    )
    return SendOutcome("retry", retry_at)


@transaction.atomic
def _finish_failed(
    email: OutboundEmail, token: uuid.UUID, *, code: str, reasons: tuple[str, ...] = ()
) -> SendOutcome:
    now = timezone.now()
    failed = OutboundEmail.objects.filter(
        pk=email.pk, claim_token=token, status=OutboundEmail.Status.SENDING
    ).update(
        status=OutboundEmail.Status.FAILED,
        claim_token=None,
        lease_expires_at=None,
        last_error_code=code,
        updated_at=now,
    )
    if not failed:  # the claim was lost meanwhile: its new holder decides
        return SendOutcome("skipped")
    events.email_failed_event(email=email, error=code, reasons=reasons)
    logger.warning("email %s gave up after attempt %s (%s)", email.pk, email.attempts, code)
    return SendOutcome("failed")


def error_code(exc: BaseException) -> str:
    """A short code for a send error. Exception text can hold addresses: never keep it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return f"smtp_{codes[0]}" if codes else "smtp_recipients_refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"smtp_{exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "smtp_disconnected"
    if isinstance(exc, smtplib.SMTPException):
        return "smtp_error"
    if isinstance(exc, ApplicationError):
        return exc.code
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls_error"
    if isinstance(exc, OSError):
        return "network_error"
    return f"internal_{type(exc).__name__}"[:64]


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying cannot help this message: the server refused its recipient or its
    content (5xx), or the person's key is gone.

    Other 5xx replies (authentication, sender refused) and other vault errors (a master
    key missing) point at our own configuration, which can be fixed: those are retried
    like network errors.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return isinstance(exc, SubjectShredded)


# -- reconciling ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileReport:
    leases_requeued: int = 0
    leases_failed: int = 0
    enqueued: int = 0

    def __str__(self) -> str:
        return (
            f"outbox: {self.leases_requeued} expired leases requeued, "
            f"{self.leases_failed} given up, {self.enqueued} sends enqueued"
        )


def outbox_reconcile() -> ReconcileReport:
    """Requeue emails whose worker died mid-send and re-enqueue due emails whose broker
    message was lost. Sending twice is harmless to the outbox: the claim lets one through.

    Not atomic as a whole: each expired lease is released in its own transaction.
    """
    now = timezone.now()
    batch = _setting("COMMS_OUTBOX_RECONCILE_BATCH", 500)
    requeued = failed = 0
    expired = OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING, lease_expires_at__lt=now
    ).values_list("pk", "claim_token", "subject_id", "kind", "purpose", "attempts")[:batch]
    for pk, token, subject_id, kind, purpose, attempts in expired:
        if token is None:  # a row in "sending" always carries its claim token
            continue
        if attempts >= _max_attempts():
            email = OutboundEmail(
                pk=pk, subject_id=subject_id, kind=kind, purpose=purpose, attempts=attempts
            )
            if _finish_failed(email, token, code="lease_expired").status == "failed":
                failed += 1
            continue
        requeued += _lease_release(pk, token, subject_id=subject_id, purpose=purpose, now=now)
    # Give the normal path a head start, so healthy queued emails are not enqueued twice.
    grace = timedelta(seconds=_setting("COMMS_OUTBOX_RECONCILE_GRACE_SECONDS", 60))
    due = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.QUEUED, next_attempt_at__lte=now - grace
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in due:
        _enqueue(pk)
    report = ReconcileReport(requeued, failed, requeued + len(due))
    if requeued or failed or due:
        logger.info("%s", report)
    return report


@transaction.atomic
def _lease_release(
    pk: uuid.UUID, token: uuid.UUID, *, subject_id: uuid.UUID, purpose: str, now: datetime
) -> int:
    released = OutboundEmail.objects.filter(
        pk=pk, claim_token=token, status=OutboundEmail.Status.SENDING, lease_expires_at__lt=now
    ).update(
        status=OutboundEmail.Status.QUEUED,
        next_attempt_at=now,
        claim_token=None,
        lease_expires_at=None,
        last_error_code="lease_expired",
        updated_at=now,
    )
    if released:
        events.email_lease_expired_event(email_id=pk, subject_id=subject_id, purpose=purpose)
        transaction.on_commit(partial(_enqueue, pk), robust=True)
    return released

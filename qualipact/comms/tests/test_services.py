"""The outbox against a real SMTP server on 127.0.0.1: queue, send, retry, give up, claim."""

import json
import logging
import re
import smtplib
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone

from conftest import PERSONAS
from qualipact.comms import services, tasks
from qualipact.comms.events import CommsCode
from qualipact.comms.models import OutboundEmail
from qualipact.comms.services import (
    email_claim,
    email_queue,
    email_send,
    error_code,
    is_permanent,
    outbox_reconcile,
    retry_delay,
    thread_message_id,
)
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import (
    ApplicationError,
    ProcessingRefused,
    SubjectShredded,
    VaultError,
)
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.selectors import subject_collect
from qualipact.privacy.services import subject_erase, subject_restrict
from qualipact.privacy.vault import blind_index

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ADDRESS = PERSONAS["alice"]["email"]
UNSUBSCRIBE = {"List-Unsubscribe": "<https://qualipact.example/u/tok-7f3a>"}


def queue(subject, *, purpose="service_notifications", **overrides):
    arguments = {
        "subject": subject,
        "to": ADDRESS,
        "subject_line": "A new sign-in to your account",
        "body": "Someone signed in from a new device at 09:14 UTC.",
        "purpose": purpose,
    }
    arguments.update(overrides)
    return email_queue(**arguments)


def make_due(email, **fields):
    """Move the clock past the backoff (or the lease) by moving the row's times back."""
    past = timezone.now() - timedelta(hours=2)
    values = {"next_attempt_at": past} if email.status != "sending" else {}
    values.update(fields)
    OutboundEmail.objects.filter(pk=email.pk).update(**values)
    email.refresh_from_db()


def expire_lease(email):
    OutboundEmail.objects.filter(pk=email.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def codes(subject):
    return [e.code for e in AuditEvent.objects.filter(subject_id=subject.pk).order_by("id")]


# -- queue and send ---------------------------------------------------------------------


def test_it_queues_encrypted_and_sends_exactly_one_message_on_commit(
    alice, smtp, enqueued, django_capture_on_commit_callbacks, settings
):
    settings.DEFAULT_FROM_EMAIL = "Qualipact <noreply@qualipact.example>"
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(alice, headers={"X-Notice-Kind": "security"})
    assert enqueued == [(str(email.pk), None)]  # scheduled only once the row committed
    stored = OutboundEmail.objects.values("to", "subject_line", "body", "headers").get()
    assert all(ADDRESS.encode() not in bytes(value) for value in stored.values())
    assert OutboundEmail.objects.get(to_index=blind_index("email", ADDRESS.upper())) == email

    assert tasks.send_email(str(email.pk)) == "sent"

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code) == ("sent", 1, "")
    assert email.sent_at is not None and email.claim_token is None
    [message] = smtp.messages
    assert message["Message-ID"] == email.message_id
    assert message["To"] == ADDRESS
    assert message["Subject"] == "A new sign-in to your account"
    assert message["X-Notice-Kind"] == "security"
    assert message.get_payload().strip() == "Someone signed in from a new device at 09:14 UTC."
    assert message["From"] == "Qualipact <noreply@qualipact.example>"
    assert smtp.envelopes == [("noreply@qualipact.example", [ADDRESS])]
    assert codes(alice)[-2:] == [CommsCode.EMAIL_QUEUED, CommsCode.EMAIL_SENT]


def test_it_fixes_an_rfc_5322_message_id_when_queued(alice, enqueued, settings):
    settings.DEFAULT_FROM_EMAIL = "Qualipact <noreply@qualipact.example>"
    first, second = queue(alice), queue(alice)
    assert re.fullmatch(r"<[0-9a-f]{32}@qualipact\.example>", first.message_id)
    assert first.message_id != second.message_id
    settings.COMMS_MESSAGE_ID_DOMAIN = "mail.qualipact.example"
    assert queue(alice).message_id.endswith("@mail.qualipact.example>")


def test_it_sends_a_row_once_however_often_its_task_arrives(alice, smtp, enqueued):
    email = queue(alice)
    results = [tasks.send_email(str(email.pk)) for _ in range(3)]
    assert results == ["sent", "skipped", "skipped"]
    assert smtp.message_ids == [email.message_id]


def test_it_stores_extra_headers_encrypted_as_json_and_sends_them(alice, smtp, enqueued, rules):
    rules.consent_granted()
    email = queue(alice, purpose="marketing", headers=UNSUBSCRIBE)
    raw = OutboundEmail.objects.values_list("headers", flat=True).get()
    assert b"List-Unsubscribe" not in bytes(raw)
    assert json.loads(OutboundEmail.objects.get().headers) == UNSUBSCRIBE
    email_send(email_id=email.pk)
    assert smtp.messages[0]["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]


@pytest.mark.parametrize(
    ("overrides", "extra"),
    [
        ({"to": "not an address"}, {"to": "invalid"}),
        ({"body": "  "}, {"fields": ["body"]}),
        ({"subject_line": "Hello\r\nBcc: victim@example.org"}, {"subject_line": "multi_line"}),
        ({"headers": {"Bcc": "someone@example.org"}}, {"headers": "reserved"}),
        ({"headers": {"Message-ID": "<forged@example.org>"}}, {"headers": "reserved"}),
        ({"headers": {"X-Bad Name": "1"}}, {"headers": "name"}),
        ({"headers": {"X-Note\n": "1"}}, {"headers": "name"}),
        ({"headers": {"X-Note": "a\nBcc: victim@example.org"}}, {"headers": "value"}),
        ({"purpose": "marketing"}, {"headers": "list_unsubscribe"}),
        ({"purpose": "personalised_offers"}, {"headers": "list_unsubscribe"}),
        ({"purpose": "newsletter"}, {"purpose": "invalid"}),
    ],
)
def test_it_refuses_bad_input_and_stores_nothing(alice, enqueued, overrides, extra):
    with pytest.raises(ApplicationError) as excinfo:
        queue(alice, **overrides)
    assert excinfo.value.extra == extra
    assert not OutboundEmail.objects.exists()
    assert enqueued == []


def test_it_gives_a_conversations_first_email_its_thread_id_once(alice, enqueued):
    first = thread_message_id("ticket-0123abcd")
    assert re.fullmatch(r"<ticket-0123abcd@[^<>@\s]+>", first)
    assert queue(alice, message_id=first).message_id == first
    with pytest.raises(ApplicationError) as twice:
        queue(alice, message_id=first)
    assert twice.value.extra == {"message_id": "used"}
    assert OutboundEmail.objects.count() == 1
    for key in ("", "a b", "<x>", "x@y", "x" * 65):
        with pytest.raises(ValueError):
            thread_message_id(key)


# -- consent ----------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", sorted(services.REQUIRED_PURPOSES))
def test_it_sends_required_messages_whatever_the_rules_say(alice, smtp, enqueued, rules, purpose):
    # No consent to anything, every purpose refused, and processing restricted.
    rules.consent_withdrawn()
    rules.refuse_everything()
    subject_restrict(subject=alice, actor=Actor.system("test"), reason="contested")
    email = queue(alice, purpose=purpose)
    assert (email.kind, email.purpose) == ("service", purpose)
    assert email_send(email_id=email.pk).status == "sent"
    assert smtp.message_ids == [email.message_id]
    for optional in ("service_notifications", "marketing"):
        with pytest.raises(ProcessingRefused):
            queue(alice, purpose=optional, headers=UNSUBSCRIBE)


def test_it_holds_back_optional_notices_under_a_restriction(alice, smtp, enqueued):
    # Art 18: stored only. Telling the person about the restriction is a required message.
    email = queue(alice)
    subject_restrict(subject=alice, actor=Actor.system("test"), reason="contested")
    with pytest.raises(ProcessingRefused) as excinfo:
        queue(alice)
    assert excinfo.value.extra["reasons"] == ["restricted"]
    assert email_send(email_id=email.pk).status == "failed"
    assert smtp.messages == []


def test_an_objection_to_service_notifications_stops_them(alice, enqueued):
    from qualipact.consent.services import objection_record, objection_withdraw

    objection_record(
        subject=alice, purpose="service_notifications", channel="api", actor=Actor.system("t")
    )
    with pytest.raises(ProcessingRefused) as excinfo:
        queue(alice)
    assert excinfo.value.extra["reasons"] == ["objected"]
    assert not OutboundEmail.objects.exists()
    objection_withdraw(
        subject=alice, purpose="service_notifications", channel="api", actor=Actor.system("t")
    )
    assert queue(alice).status == "queued"


def test_it_queues_marketing_only_with_consent(alice, enqueued, rules):
    rules.consent_withdrawn()
    with pytest.raises(ProcessingRefused) as excinfo:
        queue(alice, purpose="marketing", headers=UNSUBSCRIBE)
    assert excinfo.value.extra == {"purpose": "marketing", "reasons": ["refused_by_test"]}
    rules.consent_granted()
    assert queue(alice, purpose="marketing", headers=UNSUBSCRIBE).status == "queued"


def test_it_does_not_send_marketing_after_consent_was_withdrawn(alice, smtp, enqueued, rules):
    rules.consent_granted()
    email = queue(alice, purpose="marketing", headers=UNSUBSCRIBE)
    rules.consent_withdrawn()
    assert email_send(email_id=email.pk).status == "failed"
    email.refresh_from_db()
    assert (email.status, email.last_error_code) == ("failed", "processing_refused")
    assert smtp.messages == []
    event = AuditEvent.objects.filter(code=CommsCode.EMAIL_FAILED).get()
    assert event.purpose == "marketing"
    assert event.data["reasons"] == ["refused_by_test"]


def test_it_sends_nothing_to_an_erased_person(alice, smtp, enqueued):
    email = queue(alice)
    subject_erase(subject=alice, actor=Actor.system("test"))
    assert not OutboundEmail.objects.exists()
    assert email_send(email_id=email.pk).status == "skipped"
    assert smtp.messages == []
    alice.refresh_from_db()
    with pytest.raises(ProcessingRefused):
        queue(alice)


def test_it_shows_the_outbox_in_the_persons_data_and_erases_it(alice, enqueued):
    email = queue(alice)
    [record] = [r for r in subject_collect(alice).records if r.model == "comms.OutboundEmail"]
    values = {f.name: f.value for f in record.fields}
    assert values["to"] == ADDRESS
    assert values["body"] == "Someone signed in from a new device at 09:14 UTC."
    assert values["message_id"] == email.message_id
    receipt = subject_erase(subject=alice, actor=Actor.system("test"))
    assert receipt.models["comms.OutboundEmail"] == {"action": "delete_row", "rows": 1}


# -- retries and giving up ----------------------------------------------------------------


def test_it_schedules_a_retry_with_backoff_while_the_server_is_down_then_sends(
    alice, smtp_down, smtp_server, enqueued, settings
):
    email = queue(alice)
    enqueued.clear()
    before = timezone.now()
    assert tasks.send_email(str(email.pk)) == "retry"

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code) == (
        "queued",
        1,
        "connection_refused",
    )
    assert email.next_attempt_at >= before + timedelta(seconds=60)
    assert enqueued == [(str(email.pk), email.next_attempt_at)]  # the task's retry
    # Not due yet: an early message claims nothing.
    assert email_send(email_id=email.pk).status == "skipped"

    settings.EMAIL_PORT = smtp_server.port  # the server is back
    make_due(email)
    assert tasks.send_email(str(email.pk)) == "sent"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code) == ("sent", 2, "")
    assert smtp_server.recorder.message_ids == [email.message_id]


def test_it_retries_a_temporary_smtp_refusal(alice, smtp, enqueued):
    smtp.data_reply = "451 4.3.0 Mailbox busy, try later"
    email = queue(alice)
    assert email_send(email_id=email.pk).status == "retry"
    email.refresh_from_db()
    assert (email.status, email.last_error_code) == ("queued", "smtp_451")
    smtp.data_reply = None
    make_due(email)
    assert email_send(email_id=email.pk).status == "sent"
    assert smtp.message_ids == [email.message_id]


def test_it_gives_up_after_the_maximum_number_of_attempts(alice, smtp_down, enqueued, settings):
    settings.COMMS_EMAIL_MAX_ATTEMPTS = 3
    email = queue(alice)
    outcomes = []
    for _ in range(4):
        outcomes.append(email_send(email_id=email.pk).status)
        make_due(email)
    assert outcomes == ["retry", "retry", "failed", "skipped"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code) == (
        "failed",
        3,
        "connection_refused",
    )
    event = AuditEvent.objects.filter(code=CommsCode.EMAIL_FAILED).get()
    assert event.data == {
        "email_id": str(email.pk),
        "kind": "service",
        "attempts": 3,
        "error": "connection_refused",
        "reasons": [],
    }


def test_it_gives_up_at_once_when_the_server_refuses_the_recipient(alice, smtp, enqueued):
    smtp.rcpt_reply = f"550 5.1.1 <{ADDRESS}>: Recipient address rejected"
    email = queue(alice)
    assert email_send(email_id=email.pk).status == "failed"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code) == ("failed", 1, "smtp_550")


@pytest.mark.parametrize(
    ("exc", "code", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({ADDRESS: (550, b"no such user")}), "smtp_550", True),
        (smtplib.SMTPRecipientsRefused({ADDRESS: (452, b"mailbox full")}), "smtp_452", False),
        (smtplib.SMTPDataError(554, b"content rejected"), "smtp_554", True),
        (smtplib.SMTPDataError(451, b"try later"), "smtp_451", False),
        # Our own configuration: fixable, so retried.
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), "smtp_535", False),
        (smtplib.SMTPSenderRefused(553, b"sender refused", "noreply@x"), "smtp_553", False),
        (smtplib.SMTPServerDisconnected("gone"), "smtp_disconnected", False),
        (ConnectionRefusedError(111, "refused"), "connection_refused", False),
        (TimeoutError("timed out"), "timeout", False),
        (OSError(101, "unreachable"), "network_error", False),
        (SubjectShredded("key destroyed"), "subject_shredded", True),
        (VaultError("master key missing"), "vault_error", False),
        (KeyError(ADDRESS), "internal_KeyError", False),
    ],
)
def test_it_reduces_send_errors_to_short_codes(exc, code, permanent):
    assert (error_code(exc), is_permanent(exc)) == (code, permanent)


def test_it_backs_off_exponentially_up_to_a_ceiling(settings):
    settings.COMMS_EMAIL_RETRY_BASE_SECONDS = 60
    settings.COMMS_EMAIL_RETRY_MAX_SECONDS = 600
    delays = [retry_delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 600, 600]


# -- claims and the reconciler ------------------------------------------------------------


def test_it_lets_only_one_of_two_claims_win(alice, enqueued):
    email = queue(alice)
    first, second = email_claim(email_id=email.pk), email_claim(email_id=email.pk)
    assert first is not None and second is None
    email.refresh_from_db()
    assert (email.status, email.claim_token, email.attempts) == ("sending", first, 1)


def test_it_reenqueues_a_queued_email_whose_broker_message_was_lost(
    alice, smtp, enqueued, settings
):
    settings.COMMS_OUTBOX_RECONCILE_GRACE_SECONDS = 60
    lost = queue(alice)
    fresh = queue(alice)  # its message is still on its way: left alone
    make_due(lost, next_attempt_at=timezone.now() - timedelta(seconds=61))
    enqueued.clear()

    report = outbox_reconcile()

    assert (report.enqueued, report.leases_requeued) == (1, 0)
    assert enqueued == [(str(lost.pk), None)]
    assert tasks.send_email(enqueued[0][0]) == "sent"
    assert smtp.message_ids == [lost.message_id]
    fresh.refresh_from_db()
    assert fresh.status == "queued"


def test_it_reclaims_an_expired_lease_of_a_worker_that_died_mid_send(
    alice, smtp, enqueued, django_capture_on_commit_callbacks
):
    email = queue(alice)
    assert email_claim(email_id=email.pk) is not None  # ... and the worker dies
    enqueued.clear()
    assert outbox_reconcile().leases_requeued == 0  # the lease still runs

    expire_lease(email)
    with django_capture_on_commit_callbacks(execute=True):
        report = outbox_reconcile()

    assert (report.leases_requeued, report.enqueued) == (1, 1)
    email.refresh_from_db()
    assert (email.status, email.last_error_code, email.claim_token) == (
        "queued",
        "lease_expired",
        None,
    )
    assert enqueued == [(str(email.pk), None)]
    assert CommsCode.EMAIL_LEASE_EXPIRED in codes(alice)
    assert email_send(email_id=email.pk).status == "sent"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)
    assert smtp.message_ids == [email.message_id]


def test_it_gives_up_on_an_expired_lease_after_the_maximum_attempts(alice, enqueued, settings):
    settings.COMMS_EMAIL_MAX_ATTEMPTS = 1
    email = queue(alice)
    email_claim(email_id=email.pk)
    expire_lease(email)
    enqueued.clear()
    assert outbox_reconcile().leases_failed == 1
    email.refresh_from_db()
    assert (email.status, email.last_error_code) == ("failed", "lease_expired")
    assert enqueued == []


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


def test_it_resends_with_the_same_message_id_only_if_the_worker_died_after_acceptance(
    alice, smtp, enqueued, monkeypatch
):
    # The one documented at-least-once window: the server accepted the message and the
    # worker died before the row was marked sent.
    email = queue(alice)

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(services, "_mark_sent_once", die)
    with pytest.raises(WorkerDied):
        email_send(email_id=email.pk)
    monkeypatch.undo()
    email.refresh_from_db()
    assert email.status == "sending" and len(smtp.messages) == 1

    expire_lease(email)
    outbox_reconcile()
    assert email_send(email_id=email.pk).status == "sent"
    # Twice, under one Message-ID, so the receiving side can recognise the copy.
    assert smtp.message_ids == [email.message_id, email.message_id]


def test_it_does_not_let_a_late_worker_overwrite_a_newer_claim(alice, enqueued, caplog):
    email = queue(alice)
    stale = email_claim(email_id=email.pk)
    expire_lease(email)
    outbox_reconcile()
    current = email_claim(email_id=email.pk)
    assert current is not None and current != stale

    email.refresh_from_db()
    assert services._mark_sent_once(email, stale).status == "sent"  # delivered, but fenced
    email.refresh_from_db()
    assert (email.status, email.claim_token) == ("sending", current)
    assert "delivered after its claim was lost" in caplog.text


# -- privacy -------------------------------------------------------------------------------


def test_it_keeps_addresses_and_content_out_of_audit_rows_errors_and_logs(
    alice, smtp, enqueued, caplog, rules, settings
):
    caplog.set_level(logging.DEBUG)
    settings.COMMS_EMAIL_MAX_ATTEMPTS = 2
    rules.consent_granted()
    secret_header = "<https://qualipact.example/u/alice-unsubscribe-token>"
    sent = queue(alice, purpose="marketing", headers={"List-Unsubscribe": secret_header})
    email_send(email_id=sent.pk)
    # A refusal whose reply text quotes the address, retried and then given up.
    smtp.rcpt_reply = f"451 4.7.1 <{ADDRESS}> greylisted"
    refused = queue(alice)
    email_send(email_id=refused.pk)
    make_due(refused)
    email_send(email_id=refused.pk)
    smtp.rcpt_reply = None
    lost = queue(alice)
    email_claim(email_id=lost.pk)
    expire_lease(lost)
    outbox_reconcile()

    refused.refresh_from_db()
    assert refused.last_error_code == "smtp_451"
    audit = repr(list(AuditEvent.objects.values_list("actor_id", "purpose", "data")))
    rows = repr(list(OutboundEmail.objects.values_list("message_id", "last_error_code")))
    # The test server's own log ("mail.log") stands for the outside world: not ours.
    logs = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith("mail.log")
    )
    needles = [
        ADDRESS,
        ADDRESS.split("@")[0],
        "A new sign-in",
        "new device",
        "alice-unsubscribe-token",
    ]
    for needle in needles:
        for where in (audit, rows, logs):
            assert needle.casefold() not in where.casefold(), needle
    assert "gave up" in logs  # the log did record what happened


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_lets_exactly_one_of_many_concurrent_claims_win(alice, enqueued):
    email = queue(alice)
    barrier = threading.Barrier(8)
    tokens = []

    def claim():
        try:
            barrier.wait()
            tokens.append(email_claim(email_id=email.pk))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [token for token in tokens if token is not None]
    assert len(tokens) == 8 and len(winners) == 1
    email.refresh_from_db()
    assert (email.claim_token, email.attempts) == (winners[0], 1)


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_retries_marking_a_delivered_email_sent_when_the_database_is_busy(
    alice, smtp, enqueued, monkeypatch
):
    email = queue(alice)
    real = services._mark_sent_once
    calls = []

    def busy_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(*args)

    monkeypatch.setattr(services, "_mark_sent_once", busy_once)
    assert email_send(email_id=email.pk).status == "sent"
    email.refresh_from_db()
    assert (email.status, len(calls)) == ("sent", 2)
    assert smtp.message_ids == [email.message_id]

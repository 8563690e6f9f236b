"""A real Celery worker fulfils an erasure request and is killed with SIGKILL at a chosen
point; a second worker's reconciliation then completes it, once.

The points are made by the test holding a database lock, not by hooks in the code:

- in the key shred, after the erasure committed: the test locks the key store (SQLite:
  BEGIN EXCLUSIVE on its file; PostgreSQL: LOCK TABLE ... IN EXCLUSIVE MODE), so the
  worker commits the erasure, sends the receipt, then waits to delete the key;
- inside the erasure transaction, after the person's rows were deleted in it: on
  PostgreSQL the test holds the audit chain's head row (FOR UPDATE), which the erasure's
  audit event needs after its deletes; SQLite takes its one write lock when the
  transaction begins, so there the worker (erasing a person with many rows) is stopped
  with SIGSTOP as soon as it holds the lock, shown to still hold it, then killed.
"""

import os
import signal
import sqlite3
import subprocess
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from conftest import account_for, server_stop, submit_persona
from qualipact.celery import app
from qualipact.comms.tests.test_worker import start_worker, wait_for
from qualipact.consent.models import Channel, ConsentEvent
from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode, audit_verify
from qualipact.privacy.models import AuditEvent, DataSubject, ShredRecord, SubjectKey
from qualipact.privacy.tests.test_tasks import broker_url, database_url
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest
from qualipact.rights.services import request_submit
from qualipact.rights.tasks import requests_reconcile

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])
EXTRA_ROWS = 50_000  # consent events: an erasure long enough to be caught inside


def vendor() -> str:
    return connections["default"].vendor


# -- locks the test holds, and what it sees of the worker ------------------------------


class SqliteFile:
    """A plain sqlite3 connection to one of the test databases."""

    def __init__(self, alias: str) -> None:
        self.connection = sqlite3.connect(
            connections[alias].settings_dict["NAME"], timeout=0, isolation_level=None
        )

    def lock(self) -> None:
        self.connection.execute("BEGIN EXCLUSIVE")  # in WAL mode: readers still read

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def held_by_another(self) -> bool:
        """Whether another connection holds the write lock (is inside a write transaction)."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        self.connection.execute("ROLLBACK")
        return False

    def close(self) -> None:
        self.release()
        self.connection.close()


class PostgresSession:
    """A second PostgreSQL session that holds a lock until released."""

    def __init__(self, alias: str, statement: str) -> None:
        self.alias = alias
        self.connection = connections.create_connection(alias)
        self.connection.set_autocommit(False)
        with self.connection.cursor() as cursor:
            cursor.execute(statement)
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]

    def waiting(self) -> list[int]:
        """Other sessions of this database waiting for a lock (the worker's)."""
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
                " AND pid <> %s",
                [self.connection.settings_dict["NAME"], self.pid],
            )
            return [row[0] for row in cursor.fetchall()]

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


def backends_gone(pids: list[int]) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return cursor.fetchone()[0] == 0


# -- the person, the request, the workers ----------------------------------------------


@pytest.fixture
def erasure(tmp_path, smtp_server):
    """Alice (account, inquiry, many consent events) and her verified erasure request."""
    account = account_for("alice")
    inquiry = submit_persona("alice")
    assert inquiry.subject_id == account.subject_id
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            subject_id=account.subject_id,
            purpose="analytics",
            action="object",
            channel=Channel.PREFERENCE_CENTRE,
            policy_version=1,
            occurred_at=timezone.now(),
        )
        for _ in range(EXTRA_ROWS)
    )
    # Verified at once; its own broker message goes to the test settings' broker, which
    # no worker here reads: the test sends the task to the workers' broker itself.
    request = request_submit(
        subject=account.subject,
        kind=DataRequest.Kind.ERASURE,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(account.subject_id),
    )
    broker = broker_url(tmp_path)
    env = dict(
        os.environ,
        DATABASE_URL=database_url("default"),
        KEYS_DATABASE_URL=database_url("keys"),
        CELERY_BROKER_URL=broker,
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
    )
    return request, env, broker


def send(broker: str, task: str, *args: str) -> None:
    with app.connection_for_write(broker) as connection:
        app.send_task(task, list(args), connection=connection)


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait()  # SIGKILL always ends it


def reconcile_in_new_worker(env, broker, logs) -> None:
    """Start a second worker and have it run the periodic reconciliation."""
    send(broker, "qualipact.rights.tasks.requests_reconcile")
    second = start_worker(env, logs[1])
    try:
        wait_for(
            lambda: (
                "requests_reconcile" in logs[1].read_text() and "succeeded" in logs[1].read_text()
            ),
            what="the reconciliation in the second worker",
            logs=logs,
            processes=[second],
        )
    finally:
        server_stop(second)


def events(code: int, subject_id) -> int:
    return AuditEvent.objects.filter(code=code, subject_id=subject_id).count()


def assert_erased_once(request: DataRequest, smtp_server) -> None:
    request.refresh_from_db()
    subject_id = request.subject_id
    assert request.status == DataRequest.Status.COMPLETED
    assert request.outcome["complete"] is True
    assert DataSubject.objects.get(pk=subject_id).erased_at is not None
    assert not Inquiry.objects.filter(subject_id=subject_id).exists()
    assert not ConsentEvent.objects.filter(subject_id=subject_id).exists()
    assert not SubjectKey.objects.using("keys").filter(subject_id=subject_id).exists()
    assert ShredRecord.objects.using("keys").filter(subject_id=subject_id).count() == 1
    assert vault.is_shredded(subject_id)
    # Each side effect once: the erasure, the shred, the completion, the receipt.
    assert events(EventCode.SUBJECT_ERASED, subject_id) == 1
    assert events(EventCode.SUBJECT_KEY_SHREDDED, subject_id) == 1
    assert events(RightsCode.RIGHTS_REQUEST_COMPLETED, subject_id) == 1
    receipts = [m for m in smtp_server.recorder.messages if "erased" in m["Subject"]]
    assert len(receipts) == 1
    assert receipts[0]["To"] == "alice.marchetti@example.org"
    assert str(request.pk) in receipts[0].get_payload()
    assert audit_verify().ok, audit_verify()
    # Running the reconciliation again changes nothing.
    count = AuditEvent.objects.count()
    requests_reconcile()
    assert AuditEvent.objects.count() == count


# -- the tests --------------------------------------------------------------------------


def test_it_finishes_the_key_shred_of_a_worker_killed_after_the_erasure_committed(
    tmp_path, erasure, smtp_server
):
    request, env, broker = erasure
    subject_id = request.subject_id
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    if vendor() == "sqlite":
        keys, main = SqliteFile("keys"), SqliteFile("default")
        keys.lock()
    else:
        keys = PostgresSession("keys", "LOCK TABLE privacy_subjectkey IN EXCLUSIVE MODE")
    send(broker, "qualipact.rights.tasks.request_fulfil", str(request.pk))
    worker = start_worker(env, logs[0])
    try:
        if vendor() == "sqlite":
            # Committed, receipt sent, and in the shred's transaction: waiting for the keys.
            wait_for(
                lambda: smtp_server.recorder.messages and main.held_by_another(),
                what="the worker in the key shred",
                logs=logs,
                processes=[worker],
            )
            worker.send_signal(signal.SIGSTOP)
            assert main.held_by_another(), "the worker left the shred before it was stopped"
            waiting: list[int] = []
        else:
            wait_for(
                keys.waiting, what="the worker in the key shred", logs=logs, processes=[worker]
            )
            waiting = keys.waiting()
    finally:
        kill(worker)
        keys.release()
    if waiting:
        wait_for(lambda: backends_gone(waiting), what="the dead session", logs=logs)
    if vendor() == "sqlite":
        main.close()
        keys.close()

    # Erased and completed, but the key is still there: the crash hit the shred.
    request.refresh_from_db()
    assert request.status == DataRequest.Status.COMPLETED
    assert DataSubject.objects.get(pk=subject_id).erased_at is not None
    assert not Inquiry.objects.filter(subject_id=subject_id).exists()
    assert SubjectKey.objects.using("keys").filter(subject_id=subject_id).exists()
    assert events(EventCode.SUBJECT_KEY_SHREDDED, subject_id) == 0
    assert len(smtp_server.recorder.messages) == 1  # the receipt went out before the shred
    assert audit_verify().ok

    reconcile_in_new_worker(env, broker, logs)
    assert_erased_once(request, smtp_server)


def test_it_rolls_back_an_erasure_whose_worker_was_killed_inside_it_and_completes_it_later(
    tmp_path, erasure, smtp_server
):
    request, env, broker = erasure
    subject_id = request.subject_id
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    rows = ConsentEvent.objects.filter(subject_id=subject_id).count()
    assert rows == EXTRA_ROWS
    if vendor() == "sqlite":
        main = SqliteFile("default")
    else:
        main = PostgresSession("default", "SELECT id FROM privacy_audithead FOR UPDATE")
    send(broker, "qualipact.rights.tasks.request_fulfil", str(request.pk))
    worker = start_worker(env, logs[0])
    try:
        if vendor() == "sqlite":
            # The transaction lasts a fraction of a second: watch closely, stop at once.
            wait_for(
                main.held_by_another,
                what="the worker to begin the erasure",
                logs=logs,
                processes=[worker],
                poll=0.0005,
            )
            worker.send_signal(signal.SIGSTOP)
            assert main.held_by_another(), "the erasure ended before the worker was stopped"
            waiting: list[int] = []
        else:
            # Its rows are deleted in its transaction; it waits to write the audit event.
            wait_for(main.waiting, what="the worker in the erasure", logs=logs, processes=[worker])
            waiting = main.waiting()
    finally:
        kill(worker)
        main.release()
    if waiting:
        wait_for(lambda: backends_gone(waiting), what="the dead session", logs=logs)
    if vendor() == "sqlite":
        main.close()

    # Nothing half-erased: the transaction died with the worker.
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert DataSubject.objects.get(pk=subject_id).erased_at is None
    assert ConsentEvent.objects.filter(subject_id=subject_id).count() == rows
    assert Inquiry.objects.filter(subject_id=subject_id).count() == 1
    assert SubjectKey.objects.using("keys").filter(subject_id=subject_id).exists()
    assert events(EventCode.SUBJECT_ERASED, subject_id) == 0
    assert smtp_server.recorder.messages == []
    assert audit_verify().ok

    # Five minutes on, the reconciliation takes the request up again.
    DataRequest.objects.filter(pk=request.pk).update(
        verified_at=timezone.now() - timedelta(minutes=6)
    )
    reconcile_in_new_worker(env, broker, logs)
    assert_erased_once(request, smtp_server)

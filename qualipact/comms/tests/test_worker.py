"""Real Celery workers on the configured broker send a batch; one is killed mid-send."""

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import server_start, server_stop, wait_until
from qualipact.celery import app
from qualipact.comms.events import CommsCode
from qualipact.comms.models import OutboundEmail
from qualipact.comms.services import outbox_reconcile
from qualipact.comms.tests.test_services import queue
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.tests.test_tasks import broker_url, database_url

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])
ROOT = Path(__file__).resolve().parents[3]
BATCH = 20
HOLD_AT = 6  # the SMTP server holds the 6th message: the worker is killed mid-send


def start_worker(env, log: Path) -> subprocess.Popen:
    """A worker in a process group of its own that ends with pytest (conftest.server_start)."""
    return server_start(
        [sys.executable, "-m", "celery", "-A", "qualipact", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        log=log, cwd=ROOT, env=env,
    )  # fmt: skip


def wait_for(condition, *, what: str, logs: list[Path], processes=(), poll=0.1) -> None:
    """Wait until `condition()` holds, however long a slow machine takes (conftest.wait_until);
    fail early if one of `processes` died, showing the workers' output."""
    wait_until(
        condition,
        what=what,
        processes=processes,
        details=lambda: "\n".join(log.read_text()[-3000:] for log in logs if log.exists()),
        poll=poll,
    )


def statuses() -> Counter:
    return Counter(OutboundEmail.objects.values_list("status", flat=True))


def test_it_sends_each_email_once_when_a_worker_is_killed_mid_batch(
    tmp_path, alice, smtp_server, enqueued
):
    recorder = smtp_server.recorder
    recorder.hold_at = HOLD_AT
    emails = [queue(alice, subject_line=f"Notice {n}") for n in range(BATCH)]
    assert [email_id for email_id, _ in enqueued] == [str(e.pk) for e in emails]

    broker = broker_url(tmp_path)
    env = dict(
        os.environ,
        DATABASE_URL=database_url("default"),
        KEYS_DATABASE_URL=database_url("keys"),
        CELERY_BROKER_URL=broker,
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
    )
    with app.connection_for_write(broker) as connection:
        for email_id, _ in enqueued:
            app.send_task("qualipact.comms.tasks.send_email", [email_id], connection=connection)

    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    first = start_worker(env, logs[0])
    try:
        wait_for(recorder.held.is_set, what="the held message", logs=logs, processes=[first])
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()  # SIGKILL always ends it
    recorder.release.set()  # its client is dead: the held message is never accepted

    assert len(recorder.messages) == HOLD_AT - 1
    assert statuses() == {"sent": HOLD_AT - 1, "sending": 1, "queued": BATCH - HOLD_AT}
    died_mid_send = OutboundEmail.objects.get(status="sending")
    assert died_mid_send.message_id not in recorder.message_ids

    # Five minutes later: the dead worker's lease has run out, and (as if every broker
    # message had been lost) the queued rows have waited past the reconciler's grace.
    long_ago = timezone.now() - timedelta(minutes=5)
    OutboundEmail.objects.filter(status="sending").update(lease_expires_at=long_ago)
    OutboundEmail.objects.filter(status="queued").update(next_attempt_at=long_ago)
    enqueued.clear()
    report = outbox_reconcile()
    assert (report.leases_requeued, report.enqueued) == (1, 1 + BATCH - HOLD_AT)
    # The queued rows' original messages are still in the broker: each such row now has
    # two messages waiting. The requeued row has one (its first went down with the worker
    # on the SQLite transport, or waits out the visibility timeout on Redis).
    second = start_worker(env, logs[1])
    try:
        with app.connection_for_write(broker) as connection:
            for email_id, _ in enqueued:
                app.send_task("qualipact.comms.tasks.send_email", [email_id], connection=connection)
            # The periodic task itself runs in the worker too.
            app.send_task("qualipact.comms.tasks.outbox_reconcile", connection=connection)
        wait_for(
            lambda: statuses() == {"sent": BATCH},
            what="every email sent",
            logs=logs,
            processes=[second],
        )
        wait_for(
            lambda: re.search(r"outbox_reconcile\[.*\] succeeded", logs[1].read_text()),
            what="the reconciler task",
            logs=logs,
            processes=[second],
        )
    finally:
        server_stop(second)

    received = Counter(recorder.message_ids)
    assert received == Counter({e.message_id: 1 for e in emails})  # each exactly once
    died_mid_send.refresh_from_db()
    assert died_mid_send.attempts == 2
    assert AuditEvent.objects.filter(
        code=CommsCode.EMAIL_LEASE_EXPIRED, data__email_id=str(died_mid_send.pk)
    ).exists()
    assert "skipped" in logs[1].read_text()  # the duplicate messages claimed nothing

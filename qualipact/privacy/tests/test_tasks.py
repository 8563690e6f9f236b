"""A real Celery worker, on the configured broker, runs the periodic audit check."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from qualipact.celery import app
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])
ROOT = Path(__file__).resolve().parents[3]


def database_url(alias: str) -> str:
    db = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def broker_url(tmp_path: Path) -> str:
    # Redis when configured (CI's second pass), else the server-less SQLite transport.
    if settings.REDIS_URL:
        return settings.REDIS_URL
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"


def test_a_worker_runs_the_audit_check_from_the_broker(tmp_path, alice_inquiry):
    events = AuditEvent.objects.count()
    broker = broker_url(tmp_path)
    env = dict(
        os.environ,
        DATABASE_URL=database_url("default"),
        KEYS_DATABASE_URL=database_url("keys"),
        CELERY_BROKER_URL=broker,
    )
    with app.connection_for_write(broker) as connection:
        app.send_task("qualipact.privacy.tasks.audit_chain_check", connection=connection)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "qualipact", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "audit chain" not in log.read_text():
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert f"audit chain ok {events} events" in log.read_text()

"""A real Celery worker, on the configured broker, runs the periodic audit check."""

import os
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from conftest import server_start, server_stop, wait_until
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
    worker = server_start(
        [sys.executable, "-m", "celery", "-A", "qualipact", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        log=log, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_until(
            lambda: "audit chain" in log.read_text(),
            what="the audit check in the worker",
            processes=[worker],
            details=log.read_text,
        )
    finally:
        server_stop(worker)
    assert f"audit chain ok {events} events" in log.read_text()

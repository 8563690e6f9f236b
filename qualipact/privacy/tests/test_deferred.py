"""Work moved out of a request (privacy.deferred): sealed, run once, never lost."""

from datetime import timedelta

import pytest
from celery.app.task import Task
from django.db import connections
from django.utils import timezone

from qualipact.privacy import deferred
from qualipact.privacy.models import DeferredWork

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

SECRET_ADDRESS = "wren.halvorsen@example.org"


@pytest.fixture
def handled(monkeypatch):
    """A registered kind whose handler records what it was given."""
    seen: list[dict] = []
    monkeypatch.setitem(deferred._handlers, "test.record", seen.append)
    return seen


@pytest.fixture
def published(monkeypatch):
    """What would have gone to the broker: (task name, args)."""
    sent: list[tuple[str, tuple]] = []

    def apply_async(self, args=None, kwargs=None, **options):
        sent.append((self.name, tuple(args or ())))

    monkeypatch.setattr(Task, "apply_async", apply_async)
    return sent


def test_it_keeps_the_payload_sealed_and_sends_only_the_id_to_the_broker(
    handled, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        work = deferred.deferred_submit(kind="test.record", payload={"email": SECRET_ADDRESS})
    assert published == [("qualipact.privacy.tasks.deferred_work_run", (str(work.pk),))]
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT * FROM privacy_deferredwork")
        assert SECRET_ADDRESS not in repr(cursor.fetchall())
    assert handled == []


def test_it_runs_the_work_once_and_deletes_it(handled):
    work = deferred.deferred_submit(kind="test.record", payload={"email": SECRET_ADDRESS})
    assert deferred.deferred_run(work_id=work.pk) == "done"
    assert deferred.deferred_run(work_id=work.pk) == "skipped"  # a duplicate message
    assert handled == [{"email": SECRET_ADDRESS}]
    assert not DeferredWork.objects.exists()


def test_it_refuses_a_kind_nobody_handles():
    with pytest.raises(ValueError):
        deferred.deferred_submit(kind="test.nobody", payload={})
    assert not DeferredWork.objects.exists()


def test_it_undoes_a_failed_handler_and_tries_again_later(monkeypatch, caplog):
    from qualipact.privacy.models import DataSubject

    def half_done(payload):
        DataSubject.objects.create()
        raise RuntimeError(f"broken for {payload['email']}")

    monkeypatch.setitem(deferred._handlers, "test.broken", half_done)
    work = deferred.deferred_submit(kind="test.broken", payload={"email": SECRET_ADDRESS})
    assert deferred.deferred_run(work_id=work.pk) == "retry"
    assert not DataSubject.objects.exists()  # nothing half-written
    work.refresh_from_db()
    assert work.attempts == 1 and work.last_error == "RuntimeError"
    assert work.not_before > timezone.now()
    assert deferred.deferred_run(work_id=work.pk) == "skipped"  # not due yet
    # The log names the kind and the error class, never what the person typed.
    assert "RuntimeError" in caplog.text and SECRET_ADDRESS not in caplog.text


def test_it_gives_up_after_the_last_attempt(monkeypatch):
    monkeypatch.setitem(deferred._handlers, "test.broken", lambda payload: 1 / 0)
    work = deferred.deferred_submit(kind="test.broken", payload={})
    DeferredWork.objects.filter(pk=work.pk).update(attempts=deferred.MAX_ATTEMPTS - 1)
    assert deferred.deferred_run(work_id=work.pk) == "failed"
    assert not DeferredWork.objects.exists()


def test_the_reconciler_sends_work_whose_message_was_lost(handled, published):
    lost = deferred.deferred_submit(kind="test.record", payload={"n": 1})
    fresh = deferred.deferred_submit(kind="test.record", payload={"n": 2})
    long_ago = timezone.now() - timedelta(minutes=5)
    DeferredWork.objects.filter(pk=lost.pk).update(not_before=long_ago)
    assert deferred.deferred_reconcile() == {"enqueued": 1, "given_up": 0}
    assert published == [("qualipact.privacy.tasks.deferred_work_run", (str(lost.pk),))]
    # The message it sends does the work, once.
    assert deferred.deferred_run(work_id=lost.pk) == "done"
    assert handled == [{"n": 1}]
    assert DeferredWork.objects.get().pk == fresh.pk


def test_the_reconciler_gives_up_work_older_than_a_day_and_retention_deletes_it(handled, published):
    from qualipact.retention.engine import retention_sweep

    old = deferred.deferred_submit(kind="test.record", payload={})
    DeferredWork.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2),
        not_before=timezone.now() - timedelta(hours=1),
    )
    assert deferred.deferred_reconcile() == {"enqueued": 0, "given_up": 1}
    retention_sweep(model="privacy.DeferredWork")
    assert not DeferredWork.objects.exists()


def test_the_reconciler_logs_a_given_up_job_once_not_every_run(handled, published, caplog):
    now = timezone.now()
    work = deferred.deferred_submit(kind="test.record", payload={})
    DeferredWork.objects.filter(pk=work.pk).update(
        created_at=now - timedelta(days=1, seconds=30), not_before=now - timedelta(hours=1)
    )
    with caplog.at_level("ERROR", logger=deferred.logger.name):
        deferred.deferred_reconcile(now=now)
        deferred.deferred_reconcile(now=now + timedelta(minutes=1))
        deferred.deferred_reconcile(now=now + timedelta(minutes=2))
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1


def test_it_reseals_waiting_work_under_a_new_master_key(handled, settings):
    from qualipact.privacy import vault

    work = deferred.deferred_submit(kind="test.record", payload={"email": SECRET_ADDRESS})
    old_id = vault.master_key_id_of(work.payload)
    settings.VAULT_MASTER_KEYS = {"next": b"\x07" * 32, **settings.VAULT_MASTER_KEYS}
    assert deferred.deferred_reseal() == 1
    work.refresh_from_db()
    assert vault.master_key_id_of(work.payload) == "next" != old_id
    assert deferred.deferred_run(work_id=work.pk) == "done"
    assert handled == [{"email": SECRET_ADDRESS}]

"""Work that depends on whether an address is known, moved out of the request.

A form that takes an email address must answer the same, and in the same time, whether
or not the address is known to us: creating an account, mailing a reset link or a code,
registering a subject all take time only on one side. Such a view validates its input,
does the work both sides share (hashing a password), and hands the rest to
`deferred_submit(kind=..., payload=...)`, which stores the payload sealed under the
site's master key and enqueues a Celery task with the row's id only, on commit. The
handler the app registered for that kind (`deferred_handler_register`, in its
`AppConfig.ready()`) then runs in the worker, in one transaction with the row's
deletion: it runs once, or not at all and is tried again.

The database, not the queue, is the source of truth: `deferred_reconcile` (beat, every
minute) enqueues rows a lost message or a killed worker left behind; a failing handler
is tried again with a growing delay, and given up (logged, the row deleted) after
`MAX_ATTEMPTS` tries or a day. Logs name the kind, the row id and an exception class,
never the payload.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qualipact.privacy import vault
from qualipact.privacy.models import DeferredWork

logger = logging.getLogger(__name__)

SEAL_CONTEXT = "privacy.deferred_work"
MAX_ATTEMPTS = 8
MAX_AGE = timedelta(days=1)
# How long a row waits for its own message before the reconciler sends another.
RECONCILE_GRACE = timedelta(seconds=60)
RECONCILE_BATCH = 500

Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}


def deferred_handler_register(kind: str, handler: Handler) -> None:
    """`handler(payload)` does the work for `kind`; it runs inside a transaction."""
    _handlers[kind] = handler


def deferred_handlers() -> dict[str, Handler]:
    return dict(_handlers)


@transaction.atomic
def deferred_submit(*, kind: str, payload: dict[str, Any]) -> DeferredWork:
    """Store the work (payload sealed, JSON-serialisable) and enqueue it on commit.

    Raises ValueError for a kind nobody registered: that is a programming error.
    """
    if kind not in _handlers:
        raise ValueError(f"no handler registered for deferred work {kind!r}")
    work = DeferredWork.objects.create(
        kind=kind,
        payload=vault.master_seal(SEAL_CONTEXT, json.dumps(payload)),
        not_before=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(work.pk), robust=True)
    return work


def _enqueue(work_id: uuid.UUID) -> None:
    # Imported here: the task module calls deferred_run (tasks are thin).
    from qualipact.privacy.tasks import deferred_work_run

    deferred_work_run.delay(str(work_id))


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deferred_run(*, work_id: uuid.UUID | str) -> str:
    """Run one piece of work: "done", "skipped" (gone, or not due), "retry" or "failed"."""
    now = timezone.now()
    with transaction.atomic():
        # A write first: it takes the row (PostgreSQL) or the database (SQLite) before the
        # read, so two workers given the same id never both run it.
        claimed = DeferredWork.objects.filter(pk=work_id, not_before__lte=now).update(
            attempts=F("attempts") + 1, updated_at=now
        )
        if not claimed:
            return "skipped"
        work = DeferredWork.objects.select_for_update().get(pk=work_id)
        try:
            handler = _handlers[work.kind]
            payload = json.loads(vault.master_open(SEAL_CONTEXT, work.payload))
            with transaction.atomic():
                handler(payload)
        except Exception as exc:
            error = type(exc).__name__[:64]
            if work.attempts >= MAX_ATTEMPTS or work.created_at < now - MAX_AGE:
                logger.error(
                    "deferred %s %s given up after %d attempts (%s)",
                    work.kind,
                    work.pk,
                    work.attempts,
                    error,
                )
                work.delete()
                return "failed"
            work.not_before = now + _retry_delay(work.attempts)
            work.last_error = error
            work.save(update_fields=["not_before", "last_error", "updated_at"])
            logger.warning(
                "deferred %s %s failed (%s), attempt %d", work.kind, work.pk, error, work.attempts
            )
            return "retry"
        work.delete()
    return "done"


def deferred_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Enqueue work left behind by a lost message or a dead worker. Work over a day old is
    given up: never enqueued again, and deleted by the retention engine (its declared
    retention, privacy/privacy.py)."""
    now = now or timezone.now()
    fresh = DeferredWork.objects.filter(created_at__gte=now - MAX_AGE)
    old = DeferredWork.objects.filter(created_at__lt=now - MAX_AGE)
    given_up = old.count()
    # Logged once, by the run (every RECONCILE_GRACE) after the job crossed the limit;
    # it stays, never enqueued, until the next hourly retention sweep deletes it.
    if newly := old.filter(created_at__gte=now - MAX_AGE - RECONCILE_GRACE).count():
        logger.error("%d deferred job(s) given up: older than a day", newly)
    due = list(
        fresh.filter(not_before__lte=now - RECONCILE_GRACE)
        .order_by("not_before")
        .values_list("pk", flat=True)[:RECONCILE_BATCH]
    )
    for pk in due:
        _enqueue(pk)
    return {"enqueued": len(due), "given_up": given_up}


def deferred_reseal() -> int:
    """Re-seal pending payloads under the current master key (`vault_rotate`)."""
    from django.conf import settings

    current = next(iter(settings.VAULT_MASTER_KEYS))
    count = 0
    for pk in DeferredWork.objects.values_list("pk", flat=True):
        with transaction.atomic():
            work = DeferredWork.objects.select_for_update().filter(pk=pk).first()
            if work is None or vault.master_key_id_of(work.payload) == current:
                continue
            work.payload = vault.master_seal(
                SEAL_CONTEXT, vault.master_open(SEAL_CONTEXT, work.payload)
            )
            work.save(update_fields=["payload", "updated_at"])
            count += 1
    return count

import logging

from celery import shared_task
from django.db import DatabaseError

from qualipact.privacy import deferred, maintenance
from qualipact.privacy.audit import audit_verify

logger = logging.getLogger(__name__)


@shared_task
def audit_chain_check() -> str:
    """Periodic check of the audit chain; a broken chain is logged as an error."""
    report = audit_verify()
    if report.ok:
        logger.info("audit chain %s", report)
    else:
        logger.error("audit chain %s", report)
    return str(report)


# A database error leaves the row as it was: retrying, or the reconciler, finishes it.
@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def deferred_work_run(work_id: str) -> str:
    """Run one piece of address-dependent work moved out of a request (privacy.deferred)."""
    return deferred.deferred_run(work_id=work_id)


@shared_task
def deferred_work_reconcile() -> dict[str, int]:
    """Periodic: enqueue deferred work whose message was lost; drop work over a day old."""
    return deferred.deferred_reconcile()


@shared_task
def sqlite_checkpoint() -> dict[str, list[int]]:
    """SQLite only: checkpoint the write-ahead logs off the request path (every minute)."""
    return maintenance.sqlite_checkpoint()

"""Thin Celery tasks for requests: fulfil one, reconcile lost ones, sweep old exports and
the 24-month request log, remind DPOs of what is due."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from qualipact.rights import services
from qualipact.rights.models import DataRequest

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def request_fulfil(self, request_id: str) -> None:  # type: ignore[no-untyped-def]
    try:
        services.request_fulfil(request_id=request_id)
    except Exception as exc:
        raise self.retry(exc=exc) from None


@shared_task
def requests_reconcile() -> int:
    """Fulfil verified requests a lost message or a killed worker left behind.

    Each request is isolated: one that fails is marked failed (rights.services.fulfil) and never
    stops the ones after it. Returns how many were tried."""
    stale = timezone.now() - timedelta(minutes=5)
    pending = DataRequest.objects.filter(
        status=DataRequest.Status.IN_PROGRESS, verified_at__lt=stale
    ).exclude(kind=DataRequest.Kind.RECTIFICATION)
    erased = DataRequest.objects.filter(
        kind=DataRequest.Kind.ERASURE,
        status=DataRequest.Status.COMPLETED,
        outcome__complete=True,
        completed_at__gt=timezone.now() - timedelta(days=2),
    )
    count = 0
    for request_id in [*pending.values_list("pk", flat=True), *erased.values_list("pk", flat=True)]:
        count += 1
        try:
            services.request_fulfil(request_id=request_id)
        except Exception as exc:
            # Transient (left for the next run) or a failure outside the handlers.
            logger.warning("reconciling request %s failed: %s", request_id, type(exc).__name__)
    return count


@shared_task
def deadline_reminders() -> int:
    """Email DPOs the open requests due within three days."""
    return services.deadline_reminders()


@shared_task
def appeal_reminders() -> int:
    """Email DPOs the open appeals due within seven days or overdue."""
    return services.appeal_reminders()

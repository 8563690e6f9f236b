"""The retention engine's periodic task: thin, idempotent (a lost run is made up by the
next one)."""

from celery import shared_task

from qualipact.retention.engine import retention_sweep as sweep


@shared_task
def retention_sweep() -> int:
    """Enforce every declared retention rule; returns the rows handled."""
    return sum(result.done for result in sweep())

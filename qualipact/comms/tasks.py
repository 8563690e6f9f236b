from celery import shared_task
from django.db import DatabaseError

from qualipact.comms import services


# A database error leaves the row as it was (queued, or sending under a lease that the
# reconciler will expire): retrying the task is always safe.
@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def send_email(email_id: str) -> str:
    """Send one outbox email; schedule the next attempt when it failed and may retry."""
    outcome = services.email_send(email_id=email_id)
    if outcome.retry_at is not None:
        send_email.apply_async(args=[email_id], eta=outcome.retry_at)
    return outcome.status


@shared_task
def outbox_reconcile() -> str:
    """Periodic: requeue expired leases and re-enqueue due emails whose message was lost."""
    return str(services.outbox_reconcile())

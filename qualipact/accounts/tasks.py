"""Periodic account jobs: thin Celery tasks that call the services. Retention (sessions,
lockout records, used codes, expired parental requests) is the retention engine's."""

from celery import shared_task


@shared_task
def parental_confirmations_send() -> int:
    """Send parents the confirmations that have come due."""
    from qualipact.accounts.services import parental_confirmations_send as send

    return send()

from celery import shared_task

from qualipact.analytics import services


@shared_task
def salt_rotation() -> str:
    """Periodic: destroy the salts and visitor hashes of every day before today (UTC)."""
    return str(services.salt_rotate(today=services.utc_today()))

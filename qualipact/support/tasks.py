from celery import shared_task

from qualipact.support import inbound


@shared_task
def mailbox_poll() -> str:
    """Periodic, only when SUPPORT_IMAP_HOST is set: take the support mailbox's unseen
    emails into their tickets."""
    return str(inbound.mailbox_poll())

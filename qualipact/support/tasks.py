"""Thin Celery tasks of the support app: remind the DPOs of complaint deadlines, close
quiet tickets, read the support mailbox. Each is idempotent: a run that is lost is made
up by the next."""

from celery import shared_task

from qualipact.support import inbound
from qualipact.support.services.staff import complaint_reminders_send, tickets_close_quiet


@shared_task
def complaint_reminders() -> int:
    """Email the DPOs of complaint deadlines within two days, once per deadline."""
    return complaint_reminders_send()


@shared_task
def quiet_tickets_close() -> int:
    """Close answered tickets with no message for 30 days."""
    return tickets_close_quiet()


@shared_task
def mailbox_poll() -> str:
    """Periodic, only when SUPPORT_IMAP_HOST is set: take the support mailbox's unseen
    emails into their tickets."""
    return str(inbound.mailbox_poll())

"""Periodic account jobs: thin Celery tasks that call the services."""

from celery import shared_task


@shared_task
def lockout_records_sweep() -> int:
    """Delete sign-in lockout records past their 30-day retention."""
    from qualipact.accounts.sessions import lockout_records_sweep as sweep

    return sweep()


@shared_task
def sessions_sweep() -> int:
    """Delete ended or expired session records past their retention."""
    from qualipact.accounts.sessions import sessions_sweep as sweep

    return sweep()


@shared_task
def parental_consent_sweep() -> dict[str, int]:
    """Purge child accounts whose parent did not consent in time; send due confirmations."""
    from qualipact.accounts.children import parental_consent_sweep as sweep

    return sweep()


@shared_task
def used_codes_sweep() -> int:
    """Delete records of used authenticator-app codes older than a day."""
    from qualipact.accounts.one_time import used_codes_sweep as sweep

    return sweep()

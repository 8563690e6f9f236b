import logging

from celery import shared_task

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

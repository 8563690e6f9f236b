import logging

from celery import shared_task

from qualipact.offers.services import offers_personal_data_sweep

logger = logging.getLogger(__name__)


@shared_task
def offers_sweep() -> None:
    """Hourly: delete offers data past its retention, or of people who withdrew consent."""
    counts = offers_personal_data_sweep()
    logger.info("offers sweep: %s", " ".join(f"{k}={v}" for k, v in counts.items()))

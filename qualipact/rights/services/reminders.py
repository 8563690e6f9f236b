"""Periodic jobs: DPOs hear what is due. The request log's retention (24 months, 11 CCR
7101) is declared in rights/privacy.py and enforced by the retention engine.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qualipact.rights import events
from qualipact.rights.models import DataRequest
from qualipact.rights.services.requests import dpos_email

logger = logging.getLogger(__name__)
REMIND_DAYS = 3


def requests_due(*, today: date, days: int = REMIND_DAYS) -> list[DataRequest]:
    """Open requests due within `days` (the extension counted), overdue ones included."""
    limit = today + timedelta(days=days)
    return list(
        DataRequest.objects.filter(status__in=DataRequest.OPEN_STATUSES)
        .filter(Q(extended_due_on__isnull=True, due_on__lte=limit) | Q(extended_due_on__lte=limit))
        .order_by("due_on", "received_at")
    )


def _line(request: DataRequest, today: date) -> str:
    due = request.effective_due_on
    when = f"OVERDUE since {due}" if due < today else f"due {due}"
    return (
        f"  - {request.get_kind_display()} ({request.get_regime_display()}), "
        f"{request.get_status_display().lower()}, {when}: reference {request.pk}"
    )


@transaction.atomic
def deadline_reminders(*, today: date | None = None) -> int:
    """Email every DPO one list of the open requests due within three days; returns the
    number of emails queued. The list holds references, kinds and dates only."""
    today = today or timezone.localdate()
    due = requests_due(today=today)
    if not due:
        return 0
    body = "\n".join(
        [
            f"{len(due)} open request(s) are due within {REMIND_DAYS} days or overdue:",
            *(_line(request, today) for request in due),
            "",
            "Open the DPO queue to act on them.",
        ]
    )
    sent = dpos_email(subject_line=f"Requests due within {REMIND_DAYS} days: {len(due)}", body=body)
    if sent:
        events.deadlines_reminded_event(requests=due, emails=sent)
    return sent

"""Periodic jobs: the request log's rows go after 24 months; DPOs hear what is due.

The log of requests (kind, dates, status, outcome, basis of a refusal) is kept for the
period the registry declares for `rights.DataRequest` (REQUEST_LOG_RETENTION, 24 months
after receipt: 11 CCR 7101), then deleted with its internal notes and export records,
unless a legal hold on the person covers it. Requests still open are never swept.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.erasure import rows_erase, rows_without_holds
from qualipact.privacy.registry import Retention, registry
from qualipact.rights.models import DataRequest, ExportFile, RequestNote
from qualipact.rights.services import PURPOSE, dpos_email

logger = logging.getLogger(__name__)
REMIND_DAYS = 3


def request_log_retention() -> Retention:
    """The one retention rule the registry declares for the request log."""
    declaration = registry.get(DataRequest)
    if declaration is None:
        raise ImproperlyConfigured("rights.DataRequest has no personal-data declaration")
    rules = {spec.retention for spec in declaration.fields.values()}
    if len(rules) != 1:
        raise ImproperlyConfigured("rights.DataRequest: every field needs the same retention")
    return rules.pop()


@transaction.atomic
def request_log_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Delete requests received longer ago than their retention, with notes and exports."""
    now = now or timezone.now()
    rule = request_log_retention()
    expired = DataRequest.objects.filter(**{f"{rule.after}__lt": now - rule.period}).exclude(
        status__in=DataRequest.OPEN_STATUSES
    )
    held = expired.count() - rows_without_holds(expired).count()
    # The erasure primitive keeps the requests of people under a legal hold.
    per_model = rows_erase(expired)
    counts = {
        "requests": per_model.get(DataRequest._meta.label, 0),
        "notes": per_model.get(RequestNote._meta.label, 0),
        "exports": per_model.get(ExportFile._meta.label, 0),
    }
    if counts["requests"]:
        audit_log(
            code=EventCode.RIGHTS_REQUEST_LOG_SWEPT,
            actor=Actor.system("request_log_sweep"),
            purpose=PURPOSE,
            data={**counts, "held_back": held},
        )
    if counts["requests"]:
        logger.info("request log sweep deleted %(requests)d requests", counts)
    return counts


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
        audit_log(
            code=EventCode.RIGHTS_DEADLINES_REMINDED,
            actor=Actor.system("deadline_reminders"),
            purpose=PURPOSE,
            data={"requests": [str(request.pk) for request in due], "emails": sent},
        )
    return sent

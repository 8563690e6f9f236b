"""Counts of contact-form messages for the DPO dashboard: aggregates only, no message is
read or decrypted. (The support app, when it comes, takes complaints over.)"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from qualipact.contact.models import Inquiry


def complaints_by_month(*, since: datetime) -> dict[date, int]:
    """Contact-form messages of the kind "complaint" received from `since` on, per month:
    {first day of the month: messages}. Months follow the current time zone; empty months
    are absent. One GROUP BY query."""
    rows = (
        Inquiry.objects.order_by()
        .filter(kind=Inquiry.Kind.COMPLAINT, created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values_list("month")
        .annotate(messages=Count("pk"))
    )
    return {timezone.localtime(month).date(): count for month, count in rows}

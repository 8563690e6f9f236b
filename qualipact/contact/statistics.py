"""Counts of contact-form messages for the DPO dashboard: aggregates only, no message is
read or decrypted. (The support app, when it comes, takes complaints over.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count

from qualipact.contact.models import Inquiry
from qualipact.privacy.periods import period_index, periods_range


def complaints_by_period(*, starts: Sequence[datetime], end: datetime) -> list[int]:
    """Contact-form messages of the kind "complaint" received in each period `[starts[i],
    starts[i + 1])`, the last ending at `end` (months, in the DPO dashboard): one count
    per period. One GROUP BY query."""
    rows = (
        Inquiry.objects.order_by()
        .filter(periods_range("created_at", starts, end), kind=Inquiry.Kind.COMPLAINT)
        .annotate(period=period_index("created_at", starts, end))
        .values_list("period")
        .annotate(messages=Count("pk"))
    )
    found = dict(rows)
    return [found.get(index, 0) for index in range(len(starts))]

"""Reads of legal holds, for other apps' pages."""

from __future__ import annotations

import uuid

from django.db.models import Count

from qualipact.retention.models import LegalHold


def legal_hold_bases() -> list[tuple[str, str]]:
    """The grounds a hold may be placed on, as (value, label) choices (Art 17(3)(b), (e))."""
    return list(LegalHold.Basis.choices)


def legal_hold_of(*, hold_id: uuid.UUID, subject_id: uuid.UUID) -> LegalHold | None:
    """The hold `hold_id` on the person `subject_id`, lifted or not; None if there is none."""
    return LegalHold.objects.filter(pk=hold_id, subject_id=subject_id).first()


def legal_holds_in_force_by_basis() -> dict[str, int]:
    """Legal holds not lifted, per basis value ({basis: holds}; bases without a hold in
    force are absent): one GROUP BY query, for the DPO dashboard."""
    rows = (
        LegalHold.objects.order_by()
        .filter(lifted_at__isnull=True)
        .values_list("basis")
        .annotate(holds=Count("pk"))
    )
    return dict(rows)

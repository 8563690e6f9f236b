"""Reads of legal holds, for other apps' pages."""

from __future__ import annotations

import uuid

from qualipact.retention.models import LegalHold


def legal_hold_bases() -> list[tuple[str, str]]:
    """The grounds a hold may be placed on, as (value, label) choices (Art 17(3)(b), (e))."""
    return list(LegalHold.Basis.choices)


def legal_hold_of(*, hold_id: uuid.UUID, subject_id: uuid.UUID) -> LegalHold | None:
    """The hold `hold_id` on the person `subject_id`, lifted or not; None if there is none."""
    return LegalHold.objects.filter(pk=hold_id, subject_id=subject_id).first()

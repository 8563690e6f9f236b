"""Reads of data-subject requests, for the person's pages and the API."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.periods import DaysBetween, period_index, periods_range
from qualipact.privacy.purposes import PURPOSES
from qualipact.rights.models import DataRequest
from qualipact.rights.services import model_name


def requests_of(*, subject_id: uuid.UUID) -> QuerySet[DataRequest]:
    """The requests the person `subject_id` may follow, newest first: their own, and those
    they made as a parent for a child's account."""
    return DataRequest.objects.filter(
        Q(subject_id=subject_id) | Q(requested_by_id=subject_id)
    ).order_by("-received_at")


def _refusal_reason(data_request: DataRequest) -> str:
    try:
        return data_request.refusal_reason or ""
    except ApplicationError:  # the person's key is gone: the reason went with it
        return ""


def request_summary(data_request: DataRequest, *, reasons: bool = True) -> dict[str, Any]:
    """What the request came to, in words, without any personal data: for the person's
    pages. Shape: {"lines": [str], "erased": [{label, name}], "kept": [{label, name, why}],
    "kept_categories": [{category, why}], "kept_by_law": [{label, name, why}]}; `reasons`
    False leaves out a refusal's free-text reason (for a receipt that may be shared).
    Reads only: `outcome` as rights.services.fulfil wrote it (GDPR Art 12(3)-(4): what was done,
    or why not, and the right to complain)."""
    outcome = data_request.outcome or {}
    lines: list[str] = []
    result: dict[str, Any] = {
        "lines": lines,
        "erased": [],
        "kept": [],
        "kept_categories": [],
        "kept_by_law": [],
    }
    status = data_request.status
    kind = data_request.kind
    if status == DataRequest.Status.REFUSED:
        lines.append(f"Refused: {data_request.get_refusal_basis_display()}.")
        if reasons and (reason := _refusal_reason(data_request)):
            lines.append(reason)
        lines.append(
            "You may complain to a data protection supervisory authority, for example the "
            "one of the country where you live or work."
        )
        return result
    if status == DataRequest.Status.FAILED:
        lines.append(
            "A problem on our side delayed this request. Our Data Protection Officer has "
            f"been told and will finish it by {data_request.effective_due_on}."
        )
        return result
    if status == DataRequest.Status.VERIFYING:
        lines.append("Waiting for the code we emailed: nothing happens without it.")
        return result
    if status != DataRequest.Status.COMPLETED:
        if kind == DataRequest.Kind.RECTIFICATION:
            lines.append("Our Data Protection Officer reviews the correction and tells you.")
        else:
            lines.append(f"Not finished yet. We answer by {data_request.effective_due_on}.")
        return result
    if kind in (DataRequest.Kind.ACCESS, DataRequest.Kind.PORTABILITY):
        lines.append(
            "Your data is ready: we emailed you a link to download it, once, within "
            f"{settings.RIGHTS_EXPORT_DAYS} days."
        )
        transfer = outcome.get("transfer", {}).get("status")
        if transfer == "sent":
            lines.append("We also sent it to the provider you named.")
        elif transfer == "failed":
            lines.append(
                "The transfer to the provider you named failed; the file is yours to pass on."
            )
    elif kind == DataRequest.Kind.ERASURE:
        result["erased"] = [
            {"label": label, "name": model_name(label)} for label in outcome.get("erased", [])
        ]
        result["kept"] = [
            {"label": label, "name": model_name(label), "why": why}
            for label, why in outcome.get("kept", {}).items()
        ]
        result["kept_categories"] = [
            {"category": category, "why": why}
            for category, why in outcome.get("kept_categories", {}).items()
        ]
        result["kept_by_law"] = [
            {"label": label, "name": model_name(label), "why": why}
            for label, why in outcome.get("kept_by_law", {}).items()
        ]
        if outcome.get("complete"):
            lines.append("Your data is erased, and the key that encrypted it destroyed.")
        else:
            lines.append(
                "We erased what we could. What we must keep is listed with the reason; we "
                "erase it as soon as the reason ends."
            )
    elif kind == DataRequest.Kind.RESTRICTION:
        lines.append(
            "We now only store your data (and use it for legal claims). We tell you before "
            "the restriction is lifted."
        )
    elif kind == DataRequest.Kind.OBJECTION and outcome.get("objected") in PURPOSES:
        lines.append(f"We stopped using your data for: {PURPOSES[outcome['objected']].label}.")
    elif kind == DataRequest.Kind.CONSENT_WITHDRAWAL:
        labels = [PURPOSES[p].label for p in outcome.get("withdrawn", []) if p in PURPOSES]
        lines.append("Your consent is withdrawn for: " + ", ".join(labels) + ".")
    elif kind == DataRequest.Kind.RECTIFICATION:
        lines.append("We corrected: " + ", ".join(outcome.get("corrected", [])) + ".")
    return result


# -- aggregates for the DPO dashboard (counts only: no row, no personal data) ------------


def request_counts_by_kind_and_status() -> dict[tuple[str, str], int]:
    """How many requests the log holds, per (kind, status) value: one GROUP BY query.
    Pairs with no request are absent. The log keeps requests 24 months after receipt."""
    rows = (
        DataRequest.objects.order_by().values_list("kind", "status").annotate(requests=Count("pk"))
    )
    return {(kind, status): count for kind, status, count in rows}


def answer_median_days_by_period(
    *, starts: Sequence[datetime], end: datetime
) -> list[float | None]:
    """The median time to answer, in days (fractional), of the requests answered
    (completed or refused) in each period `[starts[i], starts[i + 1])`, the last ending at
    `end` (periods by the moment of the answer): one value per period, None for a period
    without answers. `starts` are aware datetimes, ascending (months in the site's zone).

    One query: the database computes each answer's duration, ranks the answers of each
    period by it (window functions, on SQLite as on PostgreSQL) and returns only the one
    or two middle answers of each period, so at most two rows per period leave the
    database whatever the number of requests."""
    period = period_index("completed_at", starts, end)
    took = DaysBetween("received_at", "completed_at")
    middles = (
        DataRequest.objects.order_by()
        .filter(
            periods_range("completed_at", starts, end),
            status__in=(DataRequest.Status.COMPLETED, DataRequest.Status.REFUSED),
        )
        .annotate(
            period=period,
            took=took,
            rank=Window(RowNumber(), partition_by=[period], order_by=[took.asc(), F("pk").asc()]),
            answered=Window(Count("pk"), partition_by=[period]),
        )
        # The ((n + 1) / 2)-th and ((n + 2) / 2)-th of n answers, in integer division:
        # the same one when n is odd, the two middle ones when it is even.
        .filter(rank__gte=(F("answered") + 1) / 2, rank__lte=(F("answered") + 2) / 2)
        .values_list("period", "took")
    )
    found: dict[int, list[float]] = {}
    for index, days in middles:
        found.setdefault(index, []).append(days)
    return [statistics.fmean(found[i]) if i in found else None for i in range(len(starts))]

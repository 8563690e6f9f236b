"""The Data Protection Officer's side of requests: who may act, the queue, one request's
file (its audit trail, notes and the person's legal holds), and lifting a restriction,
which the person must be told of first (Art 18(3)).

A DPO is a staff member in the group "DPO" (rights/migrations/0002_dpo_group) with a
second factor set up, like every staff member; the role check is `web.roles`.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from qualipact.comms.services import email_queue
from qualipact.privacy.audit import Actor, audit_code_name
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.services import subject_restriction_lift
from qualipact.retention.models import LegalHold
from qualipact.retention.services import legal_hold_lift
from qualipact.rights import events
from qualipact.rights.models import DataRequest
from qualipact.rights.services.fulfil import erasure_resume
from qualipact.rights.services.requests import contact_address

QUEUE_LIMIT = 500
TRAIL_LIMIT = 500


# -- the queue ---------------------------------------------------------------------------


class DueFilter(StrEnum):
    OVERDUE = "overdue"
    WEEK = "week"  # due within the next 7 days
    ALL = "all"


STATUS_OPEN = "open"
STATUS_ALL = "all"
STATUS_FILTERS = (STATUS_OPEN, STATUS_ALL, *DataRequest.Status.values)
DUE_WITHIN_DAYS = 7


def requests_queue(
    *, status: str = STATUS_OPEN, due: str = DueFilter.ALL, today: date | None = None
) -> list[DataRequest]:
    """Requests for the DPO: overdue first, then by the date they are due (extension counted).

    Each row carries `effective_due`, `days_left` (negative when late) and `overdue`.
    One query, whatever the number of rows.
    """
    if status not in STATUS_FILTERS:
        raise ApplicationError("Unknown status filter", {"status": "unknown"})
    if due not in DueFilter.__members__.values():
        raise ApplicationError("Unknown due-date filter", {"due": "unknown"})
    today = today or timezone.localdate()
    rows = DataRequest.objects.annotate(
        effective_due=Coalesce("extended_due_on", "due_on"),
        late=Case(
            When(effective_due__lt=today, status__in=DataRequest.OPEN_STATUSES, then=Value(0)),
            default=Value(1),
        ),
    )
    if status == STATUS_OPEN:
        rows = rows.filter(status__in=DataRequest.OPEN_STATUSES)
    elif status != STATUS_ALL:
        rows = rows.filter(status=status)
    if due == DueFilter.OVERDUE:
        rows = rows.filter(late=0)
    elif due == DueFilter.WEEK:
        rows = rows.filter(
            effective_due__gte=today,
            effective_due__lte=today + timedelta(days=DUE_WITHIN_DAYS),
        )
    # `details` and the reasons are the person's words, encrypted: the queue does not need them.
    rows = rows.defer("details", "extension_reason", "refusal_reason").order_by(
        "late", "effective_due", "received_at"
    )
    queue: list[DataRequest] = list(rows[:QUEUE_LIMIT])
    for row in queue:
        row.days_left = (row.effective_due - today).days  # type: ignore[attr-defined]
        row.overdue = row.late == 0  # type: ignore[attr-defined]
    return queue


def requests_waiting(*, today: date | None = None) -> tuple[int, int]:
    """(open requests due within DUE_WITHIN_DAYS days, open requests overdue), for the
    staff console: one query."""
    today = today or timezone.localdate()
    counts = (
        DataRequest.objects.filter(status__in=DataRequest.OPEN_STATUSES)
        .annotate(effective_due=Coalesce("extended_due_on", "due_on"))
        .aggregate(
            week=Count(
                "pk",
                filter=Q(
                    effective_due__gte=today,
                    effective_due__lte=today + timedelta(days=DUE_WITHIN_DAYS),
                ),
            ),
            overdue=Count("pk", filter=Q(effective_due__lt=today)),
        )
    )
    return counts["week"], counts["overdue"]


# Why fulfilment failed, in words, by the stable code `request_fail` stored (an error's
# code, or an exception's class name).
FAILURE_REASONS = {
    "vault_error": "The person's encryption key could not be read (the key database was "
    "unreachable, or the key is damaged).",
    "subject_shredded": "The person's key is destroyed: their data is already erased.",
    "export_error": "Building the copy of the person's data failed.",
    "transfer_failed": "Sending the copy to the provider the person named failed.",
    "processing_refused": "Processing this person's data is refused now (a restriction or "
    "an objection is in force).",
    "invalid_input": "The request holds a value our checks refuse.",
    "conflict": "The change clashes with data already stored.",
    "OperationalError": "The database was busy or unreachable, on every automatic try.",
    "InterfaceError": "The connection to the database was lost, on every automatic try.",
}


def failure_reason(code: str) -> str:
    """Why fulfilment failed, in words, for the DPO (`code` as `request_fail` stored it)."""
    if not code:
        return "The reason was not recorded."
    return FAILURE_REASONS.get(
        code,
        f"An unexpected error in our software ({code}); the worker's log has the details.",
    )


# -- one request -------------------------------------------------------------------------


def request_trail(request: DataRequest) -> list[AuditEvent]:
    """The request's own audit events, and everything about the person since it came in."""
    return list(
        AuditEvent.objects.filter(
            Q(data__request_id=str(request.pk))
            | Q(subject_id=request.subject_id, occurred_at__gte=request.received_at)
        ).order_by("id")[:TRAIL_LIMIT]
    )


def event_name(code: int) -> str:
    return audit_code_name(code)


def subject_holds(request: DataRequest) -> list[LegalHold]:
    """The person's legal holds, active ones first."""
    return sorted(
        LegalHold.objects.filter(subject_id=request.subject_id),
        key=lambda hold: (hold.lifted_at is not None, -hold.placed_at.timestamp()),
    )


@transaction.atomic
def legal_hold_lift_and_resume(*, hold: LegalHold, actor: Actor) -> list[DataRequest]:
    """Lift a hold, then finish the erasures it held back (together, or neither)."""
    hold = legal_hold_lift(hold=hold, actor=actor)
    return erasure_resume(subject=hold.subject, actor=actor)


# -- lifting a restriction: told first ---------------------------------------------------


def restriction_lift_state(request: DataRequest) -> str:
    """ "" when not a restriction in force; "notify" before the notice; "lift" after it."""
    if (
        request.kind != DataRequest.Kind.RESTRICTION
        or request.status != DataRequest.Status.COMPLETED
        or not request.outcome.get("restricted")
        or request.outcome.get("lifted_at")
        or request.subject.restricted_at is None
    ):
        return ""
    return "lift" if request.outcome.get("lift_notified_at") else "notify"


def _restriction_in_force(request_id: Any) -> DataRequest:
    request = DataRequest.objects.select_for_update().select_related("subject").get(pk=request_id)
    if not restriction_lift_state(request):
        raise ApplicationError(
            "This request did not put a restriction in force that is still in force",
            {"request": "no_restriction"},
        )
    return request


@transaction.atomic
def restriction_lift_notify(*, request: DataRequest, lift_on: date, actor: Actor) -> DataRequest:
    """Tell the person, by email, the day their restriction will be lifted (Art 18(3))."""
    request = _restriction_in_force(request.pk)
    if lift_on < timezone.localdate():
        raise ApplicationError("The day of the lift cannot be in the past", {"lift_on": "past"})
    address = contact_address(request)
    if address is None:
        raise ApplicationError(
            "There is no address to tell the person; the restriction stays",
            {"address": "none"},
        )
    email_queue(
        subject=request.requested_by or request.subject,
        to=address,
        subject_line="We will lift the restriction on your data",
        body=(
            f"You asked us to restrict the processing of your data (request of "
            f"{request.received_at.date().isoformat()}). We will lift that restriction on "
            f"{lift_on.isoformat()}: from then on we use your data again for the purposes "
            "in our privacy policy.\n\n"
            "If you disagree, reply to this message or make a new request before then. You may "
            "also complain to a data protection supervisory authority."
            f"\n\nReference: {request.pk}"
        ),
        purpose="data_subject_rights",
    )
    request.outcome = {
        **request.outcome,
        "lift_notified_at": timezone.now().isoformat(),
        "lift_on": lift_on.isoformat(),
    }
    request.save(update_fields=["outcome", "updated_at"])
    events.restriction_lift_notified_event(request=request, actor=actor, lift_on=lift_on)
    return request


@transaction.atomic
def restriction_lift(*, request: DataRequest, actor: Actor) -> DataRequest:
    """Lift the restriction, only once the person was told and the day told has come."""
    request = _restriction_in_force(request.pk)
    if not request.outcome.get("lift_notified_at"):
        raise ApplicationError(
            "Tell the person first: a restriction is lifted only after they were told",
            {"restriction": "not_notified"},
        )
    lift_on = date.fromisoformat(request.outcome["lift_on"])
    if timezone.localdate() < lift_on:
        raise ApplicationError(
            f"The person was told it is lifted on {lift_on.isoformat()}, not before",
            {"lift_on": lift_on.isoformat()},
        )
    subject_restriction_lift(subject=request.subject, actor=actor, reason="rights_dpo_lift")
    request.outcome = {**request.outcome, "lifted_at": timezone.now().isoformat()}
    request.save(update_fields=["outcome", "updated_at"])
    events.restriction_lifted_event(request=request, actor=actor)
    return request

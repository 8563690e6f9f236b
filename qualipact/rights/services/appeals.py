"""Appeals of refused requests, decided by a second Data Protection Officer.

US state privacy laws ask for an appeal process: the person appeals a refusal, and the
controller decides within 60 days, in writing, with reasons; if the appeal is denied,
the person is told how to contact the authority (Virginia CDPA §59.1-578(C), Colorado
CPA §6-1-1306(3), Connecticut CTDPA §42-520(d)). GDPR Art 12(4) asks that a person
whose request is refused be told they may complain to a supervisory authority (Art 77).

The person appeals in their own words (`appeal_make`); a DPO who did not refuse the
request decides (`appeal_decide`): upheld, the person is told the reasons and their
authority (privacy.authorities, from the country they declared); granted, the request
reopens for fulfilment. DPOs are reminded of appeals coming due (`appeal_reminders`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from qualipact.comms.services import email_queue
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.authorities import authority_sentence
from qualipact.privacy.countries import COUNTRIES
from qualipact.privacy.errors import ApplicationError, InvalidInput
from qualipact.privacy.models import AuditEvent
from qualipact.rights import events
from qualipact.rights.models import Appeal, DataRequest
from qualipact.rights.services.requests import TEXT_MAX, contact_address, dpos_email

REMIND_DAYS = 7  # DPOs hear of an appeal a week before it is due, and every day after
DUE_WITHIN_DAYS = 7  # the console's "due soon"
QUEUE_LIMIT = 500
COUNTRY_CODES = frozenset(country.code for country in COUNTRIES)


class AppealFilter(StrEnum):
    OPEN = "open"
    DUE = "due"  # open, due within DUE_WITHIN_DAYS days
    OVERDUE = "overdue"
    ALL = "all"


# -- what a person may do ------------------------------------------------------------------


def appeal_of(data_request: DataRequest) -> Appeal | None:
    """The request's latest appeal, or None."""
    return data_request.appeals.order_by("-made_at").first()


def appeal_possible(data_request: DataRequest) -> bool:
    """Whether the person may appeal now: the request is refused and this refusal was not
    appealed yet (one appeal per refusal; a granted appeal reopens the request, and a new
    refusal may be appealed again)."""
    if data_request.status != DataRequest.Status.REFUSED:
        return False
    refused_at = data_request.completed_at
    appeals = data_request.appeals.all()
    if refused_at is not None:
        appeals = appeals.filter(made_at__gte=refused_at)
    return not appeals.exists()


def _refused_by(data_request: DataRequest) -> str:
    """The staff user id of whoever made the request's latest refusal ("" for the system)."""
    event = (
        AuditEvent.objects.filter(
            code=events.RightsCode.RIGHTS_REQUEST_REFUSED,
            data__request_id=str(data_request.pk),
        )
        .order_by("-id")
        .first()
    )
    if event is None or event.actor_kind != AuditEvent.ActorKind.STAFF:
        return ""
    return event.actor_id


def _person_email(data_request: DataRequest, subject_line: str, body: str) -> None:
    address = contact_address(data_request)
    if address is None:
        return  # nobody left to write to (an erased person): the page still says it
    email_queue(
        subject=data_request.requested_by or data_request.subject,
        to=address,
        subject_line=subject_line,
        body=f"{body}\n\nReference: {data_request.pk}",
        purpose="data_subject_rights",
    )


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(
            "An appeal says why", {"text": "empty"}, public="Tell us why you disagree"
        )
    if len(text) > TEXT_MAX or "\x00" in text:
        raise InvalidInput(
            f"An appeal is at most {TEXT_MAX} characters",
            {"text": "too_long", "max_length": TEXT_MAX},
            public=f"Write at most {TEXT_MAX} characters",
        )
    return text


@transaction.atomic
def appeal_make(*, request: DataRequest, text: str, country: str = "", actor: Actor) -> Appeal:
    """The person appeals the refusal of `request`, in their own words (`text`, at most
    TEXT_MAX characters); `country` is where they live (an ISO code of
    privacy.countries, or "" when they do not say).

    The appeal is due Appeal.DECIDE_WITHIN_DAYS days after it is made. The person gets a
    receipt by email; the DPOs are told (references and dates only). Raises
    ApplicationError when the request is not refused or this refusal was already appealed,
    InvalidInput for empty or too long text or an unknown country.
    """
    text = _clean_text(text)
    country = (country or "").strip().upper()
    if country and country not in COUNTRY_CODES:
        raise InvalidInput("Unknown country", {"country": "unknown"}, public="Choose a country")
    data_request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if not appeal_possible(data_request):
        raise ApplicationError(
            "Only a refused request can be appealed, once per refusal",
            {"request": "not_appealable"},
        )
    now = timezone.now()
    appeal = Appeal.objects.create(
        request=data_request,
        subject_id=data_request.subject_id,
        text=text,
        country=country or None,
        made_at=now,
        due_on=timezone.localdate(now) + timedelta(days=Appeal.DECIDE_WITHIN_DAYS),
        refused_by=_refused_by(data_request),
    )
    events.appeal_made_event(appeal=appeal, actor=actor)
    _person_email(
        data_request,
        "We received your appeal",
        f"We received your appeal against our refusal of your request "
        f"({data_request.get_kind_display().lower()}). A member of our data protection team "
        f"who did not make the first decision will answer by {appeal.due_on.isoformat()} "
        "at the latest.",
    )
    dpos_email(
        subject_line="An appeal waits for a decision",
        body=(
            f"A person appealed the refusal of a request "
            f"({data_request.get_kind_display().lower()}). It must be decided by "
            f"{appeal.due_on.isoformat()}, by a DPO other than the one who refused it.\n"
            "Open Appeals in the staff console to decide it.\n\n"
            f"Reference: {appeal.pk}"
        ),
    )
    return appeal


# -- the decision --------------------------------------------------------------------------


def _reopen(data_request: DataRequest, appeal: Appeal, actor: Actor) -> None:
    """A granted appeal: the request is in progress again and answered by the appeal's due
    date at the latest (or its own later deadline)."""
    previous = data_request.status
    data_request.status = DataRequest.Status.IN_PROGRESS
    data_request.refusal_basis = ""
    data_request.refusal_reason = None
    data_request.completed_at = None
    # The second DPO accepted the request, including who made it.
    data_request.verified_at = data_request.verified_at or timezone.now()
    if data_request.effective_due_on < appeal.due_on:
        data_request.due_on = appeal.due_on
        data_request.extended_due_on = None
    data_request.save()
    events.request_status_changed_event(
        request=data_request, actor=actor, previous=previous, status=data_request.status
    )
    request_id = data_request.pk
    transaction.on_commit(lambda: _fulfil_later(request_id))


def _fulfil_later(request_id: object) -> None:
    # Imported here: the task runs rights.services.fulfil, which imports the services.
    from qualipact.rights.tasks import request_fulfil

    request_fulfil.delay(str(request_id))


def _is_refuser(appeal: Appeal, actor: Actor) -> bool:
    return bool(appeal.refused_by) and actor.id == appeal.refused_by


@transaction.atomic
def appeal_decide(*, appeal: Appeal, grant: bool, reason: str, actor: Actor) -> Appeal:
    """A DPO decides an open appeal: `grant` True reopens the request for fulfilment;
    False upholds the refusal, with `reason` (required then, sent to the person, at most
    TEXT_MAX characters) and the name and address of their supervisory authority.

    The DPO who refused the request may not decide its appeal (a second look). Raises
    ApplicationError for that, for an appeal already decided, and for an upheld refusal
    without reasons. Locks the request, then the appeal (the order of appeal_make).
    """
    reason = (reason or "").strip()
    if len(reason) > TEXT_MAX:
        raise InvalidInput(
            f"Reasons are at most {TEXT_MAX} characters",
            {"reason": "too_long", "max_length": TEXT_MAX},
        )
    if not grant and not reason:
        raise ApplicationError(
            "Upholding a refusal needs reasons: the person reads them", {"reason": "empty"}
        )
    data_request = DataRequest.objects.select_for_update().get(pk=appeal.request_id)
    appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
    if not appeal.is_open:
        raise ApplicationError("This appeal is already decided", {"status": appeal.status})
    if _is_refuser(appeal, actor):
        raise ApplicationError(
            "You refused this request, so another Data Protection Officer must decide "
            "its appeal. Nothing was changed.",
            {"decided_by": "refuser"},
        )
    appeal.status = Appeal.Status.GRANTED if grant else Appeal.Status.UPHELD
    appeal.decided_at = timezone.now()
    appeal.decided_by = actor.id
    appeal.decision_reason = reason or None
    appeal.save()
    events.appeal_decided_event(appeal=appeal, actor=actor)
    kind = data_request.get_kind_display().lower()
    if grant:
        _reopen(data_request, appeal, actor)
        _person_email(
            data_request,
            "Your appeal is granted",
            f"We looked at your request ({kind}) again and granted your appeal: we now do "
            f"what you asked, by {data_request.effective_due_on.isoformat()} at the latest, "
            f"and tell you when it is done.{' ' + reason if reason else ''}",
        )
    else:
        _person_email(
            data_request,
            "We upheld our refusal",
            f"We looked at your request ({kind}) again and upheld our refusal: "
            f"{reason}\n\n{authority_sentence(_country(appeal, data_request))}",
        )
    return appeal


def _country(appeal: Appeal, data_request: DataRequest) -> str:
    """The country to name an authority for: the one the person declared, else the US for
    a request under the CCPA (California's agency)."""
    declared = appeal.country or ""
    if not declared and data_request.regime == DataRequest.Regime.CCPA:
        return "US"
    return declared


def appeal_authority(appeal: Appeal) -> str:
    """The sentence naming the person's supervisory authority, for their status page."""
    return authority_sentence(_country(appeal, appeal.request))


# -- the DPOs' list, the console and the reminders ----------------------------------------


def appeals_queue(*, which: str = AppealFilter.OPEN, today: date | None = None) -> list[Appeal]:
    """Appeals for the DPOs, overdue first then by due date; each row carries `days_left`
    (negative when late) and `overdue`. What the person wrote is not loaded."""
    if which not in AppealFilter.__members__.values():
        raise ApplicationError("Unknown appeal filter", {"which": "unknown"})
    today = today or timezone.localdate()
    rows = Appeal.objects.select_related("request").defer(
        "text", "country", "decision_reason", "request__details",
        "request__extension_reason", "request__refusal_reason",
    )  # fmt: skip
    if which != AppealFilter.ALL:
        rows = rows.filter(status=Appeal.Status.OPEN)
    if which == AppealFilter.DUE:
        rows = rows.filter(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_WITHIN_DAYS))
    elif which == AppealFilter.OVERDUE:
        rows = rows.filter(due_on__lt=today)
    queue = list(rows.order_by("due_on", "made_at")[:QUEUE_LIMIT])
    for row in queue:
        row.days_left = (row.due_on - today).days  # type: ignore[attr-defined]
        row.overdue = row.is_open and row.due_on < today  # type: ignore[attr-defined]
    return queue


def appeals_waiting(*, today: date | None = None) -> tuple[int, int]:
    """(open appeals due within DUE_WITHIN_DAYS days, open appeals overdue): one query."""
    today = today or timezone.localdate()
    counts = Appeal.objects.filter(status=Appeal.Status.OPEN).aggregate(
        soon=Count(
            "pk",
            filter=Q(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_WITHIN_DAYS)),
        ),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
    )
    return counts["soon"], counts["overdue"]


def appeals_due(*, today: date, days: int = REMIND_DAYS) -> list[Appeal]:
    """Open appeals due within `days`, overdue ones included."""
    return list(
        Appeal.objects.filter(status=Appeal.Status.OPEN, due_on__lte=today + timedelta(days=days))
        .select_related("request")
        .order_by("due_on", "made_at")
    )


@transaction.atomic
def appeal_reminders(*, today: date | None = None) -> int:
    """Email every DPO one list of the open appeals due within REMIND_DAYS days or
    overdue (references, kinds and dates only); returns the number of emails queued."""
    today = today or timezone.localdate()
    due = appeals_due(today=today)
    if not due:
        return 0
    lines = []
    for appeal in due:
        when = f"OVERDUE since {appeal.due_on}" if appeal.due_on < today else f"due {appeal.due_on}"
        lines.append(
            f"  - appeal of a refused request ({appeal.request.get_kind_display().lower()}), "
            f"{when}: reference {appeal.pk}"
        )
    body = "\n".join(
        [
            f"{len(due)} appeal(s) are due within {REMIND_DAYS} days or overdue:",
            *lines,
            "",
            "Open Appeals in the staff console to decide them. The DPO who refused a "
            "request cannot decide its appeal.",
        ]
    )
    sent = dpos_email(subject_line=f"Appeals due within {REMIND_DAYS} days: {len(due)}", body=body)
    if sent:
        events.appeals_reminded_event(appeals=due, emails=sent)
    return sent


# -- the DPO's view of one appeal (decrypts: recorded as a staff view) ---------------------


@dataclass(frozen=True)
class AppealFile:
    """One appeal as a DPO reads it: the appeal, the person's words, the refusal it is
    against (basis label and reasons), and whether `viewer` may decide it."""

    appeal: Appeal
    text: str
    country: str
    refusal_basis: str
    refusal_reason: str
    decision_reason: str
    may_decide: bool


def appeal_for_staff(*, appeal_id: uuid.UUID | str, viewer: StaffView) -> AppealFile | None:
    """The appeal `appeal_id` decrypted for a DPO, or None when there is none. Records the
    staff view (privacy.access) of the appeal's and the refusal's fields it shows."""
    appeal = Appeal.objects.select_related("request").filter(pk=appeal_id).first()
    if appeal is None:
        return None
    data_request = appeal.request
    viewer.record(
        subject=appeal.subject_id,
        model="rights.Appeal",
        fields=["text", "country", "decision_reason"],
    )
    viewer.record(subject=appeal.subject_id, model="rights.DataRequest", fields=["refusal_reason"])
    return AppealFile(
        appeal=appeal,
        text=appeal.text,
        country=appeal.country or "",
        refusal_basis=data_request.get_refusal_basis_display() or _basis_label(appeal),
        refusal_reason=data_request.refusal_reason or "",
        decision_reason=appeal.decision_reason or "",
        may_decide=appeal.is_open
        and not (appeal.refused_by and viewer.actor.id == appeal.refused_by),
    )


def _basis_label(appeal: Appeal) -> str:
    # A granted appeal cleared the request's refusal: its basis is in the audit trail.
    event = (
        AuditEvent.objects.filter(
            code=events.RightsCode.RIGHTS_REQUEST_REFUSED,
            data__request_id=str(appeal.request_id),
            occurred_at__lte=appeal.made_at,
        )
        .order_by("-id")
        .first()
    )
    basis = (event.data or {}).get("basis", "") if event else ""
    return (
        str(DataRequest.RefusalBasis(basis).label)
        if basis in DataRequest.RefusalBasis.values
        else ""
    )

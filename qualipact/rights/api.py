"""The rights API: a signed-in person's own requests (`router`, under /api/rights/), and the
DPO queue (`dpo_router`, under /api/dpo/: staff in the DPO group with MFA).

Both know the caller by their session; cross-site writes are refused site-wide by
CrossOriginProtectionMiddleware. Errors use the API's one shape (qualipact/api.py): a
request that is not yours is 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import SessionAuth

from qualipact.consent.api import SignedInAuth
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.rights import dpo, services
from qualipact.rights.forms import SENSITIVE_KINDS
from qualipact.rights.fulfil import rectification_apply
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.web.reauth import SensitiveAction, sensitive_action_check

KINDS = ", ".join(DataRequest.Kind.values)
REGIMES = ", ".join(DataRequest.Regime.values)
BASES = ", ".join(DataRequest.RefusalBasis.values)


class RequestOut(Schema):
    id: UUID
    kind: str
    kind_label: str
    status: str
    status_label: str
    regime: str
    channel: str
    received_at: datetime
    due_on: date
    extended_due_on: date | None
    extension_reason: str | None
    completed_at: datetime | None
    refusal_basis: str
    refusal_reason: str | None
    details: dict[str, Any]
    outcome: dict[str, Any]


def _out(request: DataRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "kind": request.kind,
        "kind_label": request.get_kind_display(),
        "status": request.status,
        "status_label": request.get_status_display(),
        "regime": request.regime,
        "channel": request.channel,
        "received_at": request.received_at,
        "due_on": request.due_on,
        "extended_due_on": request.extended_due_on,
        "extension_reason": request.extension_reason,
        "completed_at": request.completed_at,
        "refusal_basis": request.refusal_basis,
        "refusal_reason": request.refusal_reason,
        "details": services.details_of(request),
        "outcome": request.outcome,
    }


# -- the person's own requests -----------------------------------------------------------

router = Router(auth=SignedInAuth(csrf=False), tags=["rights"])


class RequestIn(Schema):
    kind: str = Field(description=f"One of: {KINDS}")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "objection: {purpose}; consent_withdrawal: {purposes: [...]}; rectification: "
            "{correction}; portability: {endpoint} (optional, https) for a direct transfer"
        ),
    )
    regime: str = Field(default="gdpr", description=f"One of: {REGIMES}")
    confirm: bool = Field(
        default=False,
        description=(
            "Required true for erasure, access and portability, which also need a recent "
            "re-authentication (POST /accounts/reauthenticate/ within 5 minutes)"
        ),
    )


def _own(subject: DataSubject) -> Any:
    # A parent's requests for their child are theirs to follow too.
    return DataRequest.objects.filter(Q(subject=subject) | Q(requested_by=subject))


@router.get("/requests", response=list[RequestOut], summary="My requests, newest first")
def my_requests(request: HttpRequest) -> list[dict[str, Any]]:
    subject: DataSubject = request.auth  # type: ignore[attr-defined]
    return [_out(r) for r in _own(subject).order_by("-received_at")]


@router.post("/requests", response={201: RequestOut}, summary="Make a request about my data")
def my_request_create(request: HttpRequest, payload: RequestIn) -> Status[dict[str, Any]]:
    subject: DataSubject = request.auth  # type: ignore[attr-defined]
    if payload.kind in SENSITIVE_KINDS:
        action = (
            SensitiveAction.ERASURE
            if payload.kind == DataRequest.Kind.ERASURE
            else SensitiveAction.EXPORT
        )
        sensitive_action_check(request, action, confirmed=payload.confirm)
    created = services.request_submit(
        subject=subject,
        kind=payload.kind,
        channel=DataRequest.Channel.API,
        actor=Actor.subject(subject.pk),
        details=payload.details,
        regime=payload.regime,
    )
    return Status(201, _out(created))


@router.get("/requests/{request_id}", response=RequestOut, summary="One of my requests")
def my_request(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    subject: DataSubject = request.auth  # type: ignore[attr-defined]
    return _out(get_object_or_404(_own(subject), pk=request_id))


# -- the DPO queue -----------------------------------------------------------------------


class DpoAuth(SessionAuth):
    """Signed in (else 401); staff in the DPO group with MFA set up (else 403)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if not dpo.is_dpo(user):
            raise PermissionDenied
        return user


dpo_router = Router(auth=DpoAuth(csrf=False), tags=["dpo"])


class QueueRowOut(Schema):
    id: UUID
    kind: str
    status: str
    failure_code: str
    regime: str
    channel: str
    received_at: datetime
    due_on: date
    effective_due_on: date
    days_left: int
    overdue: bool


class NoteOut(Schema):
    id: UUID
    author: str
    text: str
    created_at: datetime


class EventOut(Schema):
    id: int
    occurred_at: datetime
    code: int
    name: str
    actor_kind: str
    actor_id: str
    data: dict[str, Any]


class DpoRequestOut(RequestOut):
    subject_id: UUID
    failure_code: str
    fulfil_attempts: int
    effective_due_on: date
    days_left: int
    notes: list[NoteOut]
    trail: list[EventOut]


def _dpo_out(request: DataRequest) -> dict[str, Any]:
    return {
        **_out(request),
        "subject_id": request.subject_id,
        "failure_code": request.failure_code,
        "fulfil_attempts": request.fulfil_attempts,
        "effective_due_on": request.effective_due_on,
        "days_left": (request.effective_due_on - timezone.localdate()).days,
        "notes": [_note_out(note) for note in request.notes.all()],
        "trail": [
            {
                "id": event.pk,
                "occurred_at": event.occurred_at,
                "code": event.code,
                "name": dpo.event_name(event.code),
                "actor_kind": event.actor_kind,
                "actor_id": event.actor_id,
                "data": event.data,
            }
            for event in dpo.request_trail(request)
        ],
    }


def _note_out(note: RequestNote) -> dict[str, Any]:
    return {"id": note.pk, "author": note.author, "text": note.text, "created_at": note.created_at}


def _get(request_id: UUID) -> DataRequest:
    return get_object_or_404(DataRequest.objects.select_related("subject"), pk=request_id)


def _actor(request: HttpRequest) -> Actor:
    return Actor.staff(str(request.user.pk))


@dpo_router.get(
    "/requests",
    response=list[QueueRowOut],
    summary="The queue: overdue first, then by due date",
)
def queue(request: HttpRequest, status: str = "open", due: str = "all") -> list[dict[str, Any]]:
    """`status`: open (default), all, or one status; `due`: overdue, week (within 7 days), all."""
    return [
        {
            "id": row.pk,
            "kind": row.kind,
            "status": row.status,
            "failure_code": row.failure_code,
            "regime": row.regime,
            "channel": row.channel,
            "received_at": row.received_at,
            "due_on": row.due_on,
            "effective_due_on": row.effective_due,  # type: ignore[attr-defined]
            "days_left": row.days_left,  # type: ignore[attr-defined]
            "overdue": row.overdue,  # type: ignore[attr-defined]
        }
        for row in dpo.requests_queue(status=status, due=due)
    ]


@dpo_router.get("/requests/{request_id}", response=DpoRequestOut, summary="One request, in full")
def request_detail(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(_get(request_id))


class RefuseIn(Schema):
    basis: str = Field(description=f"One of: {BASES}")
    reason: str = Field(description="Sent to the person; required")


@dpo_router.post("/requests/{request_id}/refuse", response=DpoRequestOut, summary="Refuse")
def refuse(request: HttpRequest, request_id: UUID, payload: RefuseIn) -> dict[str, Any]:
    done = services.request_refuse(
        request=_get(request_id), basis=payload.basis, reason=payload.reason, actor=_actor(request)
    )
    return _dpo_out(done)


class ExtendIn(Schema):
    due_on: date
    reason: str = Field(description="Sent to the person; required")


@dpo_router.post(
    "/requests/{request_id}/extend", response=DpoRequestOut, summary="Extend the deadline, once"
)
def extend(request: HttpRequest, request_id: UUID, payload: ExtendIn) -> dict[str, Any]:
    done = services.request_extend(
        request=_get(request_id),
        new_due_on=payload.due_on,
        reason=payload.reason,
        actor=_actor(request),
    )
    return _dpo_out(done)


class WaitIn(Schema):
    note: str = Field(description="What we need from the person; sent to them")


@dpo_router.post(
    "/requests/{request_id}/wait", response=DpoRequestOut, summary="Wait on the person"
)
def wait(request: HttpRequest, request_id: UUID, payload: WaitIn) -> dict[str, Any]:
    if not payload.note.strip():
        raise ApplicationError("Say what is needed from the person", {"note": "empty"})
    done = services.request_wait_on_person(
        request=_get(request_id), note=payload.note.strip(), actor=_actor(request)
    )
    return _dpo_out(done)


@dpo_router.post("/requests/{request_id}/resume", response=DpoRequestOut, summary="Resume")
def resume(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(services.request_resume(request=_get(request_id), actor=_actor(request)))


@dpo_router.post(
    "/requests/{request_id}/retry", response=DpoRequestOut, summary="Retry a failed request"
)
def retry(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(services.request_retry(request=_get(request_id), actor=_actor(request)))


class NoteIn(Schema):
    text: str = Field(description="Internal: never shown to the person")


@dpo_router.post(
    "/requests/{request_id}/notes", response={201: NoteOut}, summary="Add an internal note"
)
def note_add(request: HttpRequest, request_id: UUID, payload: NoteIn) -> Status[dict[str, Any]]:
    note = services.request_note_add(
        request=_get(request_id), text=payload.text, actor=_actor(request)
    )
    return Status(201, _note_out(note))


class ChangeIn(Schema):
    model: str = Field(description='A declared model label, e.g. "contact.Inquiry"')
    record: str
    field: str
    value: str = ""


class RectifyIn(Schema):
    changes: list[ChangeIn]


@dpo_router.post(
    "/requests/{request_id}/rectify",
    response=DpoRequestOut,
    summary="Apply a correction and complete the request",
)
def rectify(request: HttpRequest, request_id: UUID, payload: RectifyIn) -> dict[str, Any]:
    done = rectification_apply(
        request=_get(request_id),
        changes=[change.model_dump() for change in payload.changes],
        actor=_actor(request),
    )
    return _dpo_out(done)

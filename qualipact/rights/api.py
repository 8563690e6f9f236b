"""The rights API: a signed-in person's own requests (`router`, under /api/rights/), and the
DPO queue (`dpo_router`, under /api/dpo/: staff in the DPO group with MFA).

Both know the caller by their session; cross-site writes are refused site-wide by
CrossOriginProtectionMiddleware. Errors use the API's one shape (qualipact/api.py): a
request that is not yours is 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuth
from pydantic import ConfigDict, field_validator, model_validator

from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES
from qualipact.rights import events, services
from qualipact.rights.forms import SENSITIVE_KINDS
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.rights.selectors import request_texts_for_staff, requests_of
from qualipact.rights.services.requests import CHANGES_MAX, TEXT_MAX
from qualipact.web.api import SignedInAuth, error_responses
from qualipact.web.reauth import SensitiveAction, sensitive_action_check
from qualipact.web.roles import Role, is_dpo

# The longest text a person or a DPO may write in one field (a correction, a reason, a
# note); longer is refused with 422, never cut.
PURPOSE_CODES = sorted(PURPOSES)


def _enum(values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


PurposeCode = Annotated[str, Field(max_length=64, json_schema_extra=_enum(PURPOSE_CODES))]


class InputSchema(Schema):
    """Request bodies: unknown keys are refused, so a misspelt field is not ignored."""

    model_config = ConfigDict(extra="forbid")


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


class RectifyChangeIn(InputSchema):
    model: str = Field(max_length=100, description='A declared model label, e.g. "contact.Inquiry"')
    record: UUID = Field(description="The id of the record to correct")
    field: str = Field(max_length=64)
    value: str = Field(default="", max_length=TEXT_MAX)


class RequestDetailsIn(InputSchema):
    """What a request needs, by kind; any other field for the kind is refused (422)."""

    purpose: str | None = Field(
        default=None,
        max_length=64,
        json_schema_extra=_enum(PURPOSE_CODES),
        description="objection: the purpose objected to (legitimate interest, or marketing)",
    )
    purposes: list[PurposeCode] | None = Field(
        default=None,
        max_length=len(PURPOSE_CODES),
        description="consent_withdrawal: purposes based on consent (all of them when absent)",
    )
    correction: str | None = Field(
        default=None,
        min_length=1,
        max_length=TEXT_MAX,
        description="rectification: what is wrong and what it should be",
    )
    changes: list[RectifyChangeIn] | None = Field(
        default=None,
        max_length=CHANGES_MAX,
        description="rectification (optional): the corrections proposed, field by field",
    )
    endpoint: str | None = Field(
        default=None,
        max_length=2000,
        description="portability (optional): an https URL for a direct transfer",
    )

    @field_validator("purposes")
    @classmethod
    def _known_purposes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(code not in PURPOSES for code in value):
            raise ValueError("Unknown purpose")
        return value


DETAILS_BY_KIND: dict[str, frozenset[str]] = {
    DataRequest.Kind.ACCESS: frozenset(),
    DataRequest.Kind.ERASURE: frozenset(),
    DataRequest.Kind.RESTRICTION: frozenset(),
    DataRequest.Kind.OBJECTION: frozenset({"purpose"}),
    DataRequest.Kind.CONSENT_WITHDRAWAL: frozenset({"purposes"}),
    DataRequest.Kind.RECTIFICATION: frozenset({"correction", "changes"}),
    DataRequest.Kind.PORTABILITY: frozenset({"endpoint"}),
}


class RequestIn(InputSchema):
    kind: Literal[
        "access",
        "portability",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "consent_withdrawal",
    ]
    details: RequestDetailsIn = Field(
        default_factory=RequestDetailsIn,
        description=(
            "objection: {purpose}; consent_withdrawal: {purposes: [...]}; rectification: "
            "{correction, changes?}; portability: {endpoint?} (https) for a direct transfer; "
            "access, erasure, restriction: nothing"
        ),
    )
    regime: Literal["gdpr", "ccpa"] = "gdpr"
    confirm: bool = Field(
        default=False,
        description=(
            "Required true for erasure, access and portability, which also need a recent "
            "re-authentication (POST /accounts/reauthenticate/ within 5 minutes)"
        ),
    )

    @model_validator(mode="after")
    def _details_fit_the_kind(self) -> RequestIn:
        given = self.details.model_dump(exclude_unset=True)
        extra = sorted(set(given) - DETAILS_BY_KIND[self.kind])
        if extra:
            raise ValueError(f"Not a detail of this kind of request: {', '.join(extra)}")
        return self


@router.get(
    "/requests",
    response={200: list[RequestOut], **error_responses(401)},
    summary="My requests, newest first",
)
def my_requests(request: HttpRequest) -> list[dict[str, Any]]:
    subject: DataSubject = request.auth  # type: ignore[attr-defined]
    return [_out(r) for r in requests_of(subject_id=subject.pk)]


@router.post(
    "/requests",
    response={201: RequestOut, **error_responses(400, 401, 403, 413, 422)},
    summary="Make a request about my data",
)
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
        details=payload.details.model_dump(exclude_none=True, mode="json"),
        regime=payload.regime,
    )
    return Status(201, _out(created))


@router.get(
    "/requests/{request_id}",
    response={200: RequestOut, **error_responses(401, 404, 422)},
    summary="One of my requests",
)
def my_request(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    subject: DataSubject = request.auth  # type: ignore[attr-defined]
    return _out(get_object_or_404(requests_of(subject_id=subject.pk), pk=request_id))


# -- the DPO queue -----------------------------------------------------------------------


class DpoAuth(SessionAuth):
    """Signed in (else 401); staff in the DPO group with MFA set up (else 403)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if not is_dpo(user):
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


class AuditEventOut(Schema):
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
    trail: list[AuditEventOut]


def _dpo_out(request: DataRequest, http: HttpRequest) -> dict[str, Any]:
    """One request for the DPO's API: its decrypted texts are read through the selector
    that records the staff view, as the DPO's page does."""
    viewer = StaffView(actor=_actor(http), role=Role.DPO, purpose=events.PURPOSE)
    details, extension, refusal = request_texts_for_staff(request, staff_view=viewer)
    return {
        **_out(request),
        "details": details,
        "extension_reason": extension or None,
        "refusal_reason": refusal or None,
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
                "name": services.event_name(event.code),
                "actor_kind": event.actor_kind,
                "actor_id": event.actor_id,
                "data": event.data,
            }
            for event in services.request_trail(request)
        ],
    }


def _note_out(note: RequestNote) -> dict[str, Any]:
    return {"id": note.pk, "author": note.author, "text": note.text, "created_at": note.created_at}


def _get(request_id: UUID) -> DataRequest:
    return get_object_or_404(DataRequest.objects.select_related("subject"), pk=request_id)


def _actor(request: HttpRequest) -> Actor:
    return Actor.staff(str(request.user.pk))


class QueueFilterIn(Schema):
    status: Literal[
        "open",
        "all",
        "received",
        "verifying",
        "in_progress",
        "waiting_on_person",
        "failed",
        "completed",
        "refused",
    ] = Field(default="open", description="open (default), all, or one status")
    due: Literal["overdue", "week", "all"] = Field(
        default="all", description="overdue, week (due within 7 days), or all"
    )


@dpo_router.get(
    "/requests",
    response={200: list[QueueRowOut], **error_responses(401, 403, 422)},
    summary="The queue: overdue first, then by due date",
)
def queue(request: HttpRequest, filters: Query[QueueFilterIn]) -> list[dict[str, Any]]:
    status, due = filters.status, filters.due
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
        for row in services.requests_queue(status=status, due=due)
    ]


@dpo_router.get(
    "/requests/{request_id}",
    response={200: DpoRequestOut, **error_responses(401, 403, 404, 422)},
    summary="One request, in full",
)
def request_detail(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(_get(request_id), request)


ACTION_ERRORS = error_responses(400, 401, 403, 404, 413, 422)


class RefuseIn(InputSchema):
    basis: Literal[
        "identity_not_verified",
        "manifestly_unfounded",
        "excessive",
        "legal_obligation",
        "legal_claims",
        "compelling_grounds",
        "rights_of_others",
    ]
    reason: str = Field(max_length=TEXT_MAX, description="Sent to the person; required")


@dpo_router.post(
    "/requests/{request_id}/refuse",
    response={200: DpoRequestOut, **ACTION_ERRORS},
    summary="Refuse",
)
def refuse(request: HttpRequest, request_id: UUID, payload: RefuseIn) -> dict[str, Any]:
    done = services.request_refuse(
        request=_get(request_id), basis=payload.basis, reason=payload.reason, actor=_actor(request)
    )
    return _dpo_out(done, request)


class ExtendIn(InputSchema):
    due_on: date = Field(description="ISO 8601 date (YYYY-MM-DD)")
    reason: str = Field(max_length=TEXT_MAX, description="Sent to the person; required")


@dpo_router.post(
    "/requests/{request_id}/extend",
    response={200: DpoRequestOut, **ACTION_ERRORS},
    summary="Extend the deadline, once",
)
def extend(request: HttpRequest, request_id: UUID, payload: ExtendIn) -> dict[str, Any]:
    done = services.request_extend(
        request=_get(request_id),
        new_due_on=payload.due_on,
        reason=payload.reason,
        actor=_actor(request),
    )
    return _dpo_out(done, request)


class WaitIn(InputSchema):
    note: str = Field(max_length=TEXT_MAX, description="What we need from the person; sent to them")


@dpo_router.post(
    "/requests/{request_id}/wait",
    response={200: DpoRequestOut, **ACTION_ERRORS},
    summary="Wait on the person",
)
def wait(request: HttpRequest, request_id: UUID, payload: WaitIn) -> dict[str, Any]:
    if not payload.note.strip():
        raise ApplicationError("Say what is needed from the person", {"note": "empty"})
    done = services.request_wait_on_person(
        request=_get(request_id), note=payload.note.strip(), actor=_actor(request)
    )
    return _dpo_out(done, request)


@dpo_router.post(
    "/requests/{request_id}/resume",
    response={200: DpoRequestOut, **error_responses(400, 401, 403, 404, 422)},
    summary="Resume",
)
def resume(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(
        services.request_resume(request=_get(request_id), actor=_actor(request)), request
    )


@dpo_router.post(
    "/requests/{request_id}/retry",
    response={200: DpoRequestOut, **error_responses(400, 401, 403, 404, 422)},
    summary="Retry a failed request",
)
def retry(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _dpo_out(
        services.request_retry(request=_get(request_id), actor=_actor(request)), request
    )


class NoteIn(InputSchema):
    text: str = Field(max_length=TEXT_MAX, description="Internal: never shown to the person")


@dpo_router.post(
    "/requests/{request_id}/notes",
    response={201: NoteOut, **ACTION_ERRORS},
    summary="Add an internal note",
)
def note_add(request: HttpRequest, request_id: UUID, payload: NoteIn) -> Status[dict[str, Any]]:
    note = services.request_note_add(
        request=_get(request_id), text=payload.text, actor=_actor(request)
    )
    return Status(201, _note_out(note))


class RectifyIn(InputSchema):
    changes: list[RectifyChangeIn] = Field(max_length=CHANGES_MAX)
    complete: bool = Field(
        default=True,
        description="False keeps the request open for more corrections; the one that "
        "completes it tells the person of them all",
    )


@dpo_router.post(
    "/requests/{request_id}/rectify",
    response={200: DpoRequestOut, **error_responses(400, 401, 403, 404, 409, 413, 422)},
    summary="Apply a correction (and complete the request, unless complete is false)",
)
def rectify(request: HttpRequest, request_id: UUID, payload: RectifyIn) -> dict[str, Any]:
    done = services.rectification_apply(
        request=_get(request_id),
        changes=[change.model_dump(mode="json") for change in payload.changes],
        actor=_actor(request),
        complete=payload.complete,
    )
    return _dpo_out(done, request)

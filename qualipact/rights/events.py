"""The rights app's audit events: one function per event, codes 800-829.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Every event is for answering a request about the person's
rights (`data_subject_rights`, Art 6(1)(c) with Art 12-22) and names the request by id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.privacy.models import AuditEvent
    from qualipact.rights.models import Appeal, DataRequest, ExportFile, RequestNote

PURPOSE = "data_subject_rights"
RIGHTS_ACTOR = Actor.system("rights")


class RightsCode(IntEnum):
    """Stored codes of the rights app. Never renumber; only add."""

    RIGHTS_REQUEST_RECEIVED = 800
    RIGHTS_REQUEST_VERIFIED = 801
    RIGHTS_VERIFICATION_FAILED = 802
    RIGHTS_REQUEST_STATUS_CHANGED = 803
    RIGHTS_REQUEST_EXTENDED = 804
    RIGHTS_REQUEST_COMPLETED = 805
    RIGHTS_REQUEST_REFUSED = 806
    RIGHTS_NOTE_ADDED = 807
    RIGHTS_EXPORT_BUILT = 810
    RIGHTS_EXPORT_DOWNLOADED = 811
    RIGHTS_EXPORT_DELETED = 812  # retired: see RETENTION_SWEPT (832)
    RIGHTS_EXPORT_TRANSFERRED = 813
    RIGHTS_RESTRICTION_LIFT_NOTIFIED = 814
    RIGHTS_RESTRICTION_LIFTED = 815
    RIGHTS_REQUEST_LOG_SWEPT = 816  # retired: see RETENTION_SWEPT (832)
    RIGHTS_DEADLINES_REMINDED = 817
    RIGHTS_REQUEST_FAILED = 818
    RIGHTS_REQUEST_RETRIED = 819
    RIGHTS_RECTIFIED = 820
    RIGHTS_RECIPIENTS_NOTIFIED = 821
    RIGHTS_REQUEST_FOR_OTHER_REFUSED = 822
    RIGHTS_APPEAL_MADE = 823
    RIGHTS_APPEAL_DECIDED = 824
    RIGHTS_APPEALS_REMINDED = 825
    RIGHTS_EVIDENCE_EXPORTED = 826


audit_codes_register(owner="rights", codes=RightsCode, span=range(800, 830))


def _request_event(
    code: RightsCode, request: DataRequest, actor: Actor, **data: object
) -> AuditEvent:
    return audit_log(
        code=code,
        actor=actor,
        subject_id=request.subject_id,
        purpose=PURPOSE,
        data={"request_id": str(request.pk), **data},
    )


def request_received_event(*, request: DataRequest, actor: Actor) -> AuditEvent:
    """800: a request came in (kind, channel and regime are codes)."""
    return _request_event(
        RightsCode.RIGHTS_REQUEST_RECEIVED,
        request,
        actor,
        kind=request.kind,
        channel=request.channel,
        regime=request.regime,
    )


def request_verified_event(*, request: DataRequest) -> AuditEvent:
    """801: the person proved the request is theirs with the emailed code."""
    return _request_event(
        RightsCode.RIGHTS_REQUEST_VERIFIED, request, Actor.subject(request.subject_id)
    )


def verification_failed_event(*, request: DataRequest) -> AuditEvent:
    """802: a wrong or expired code; `request.verification_attempts` so far."""
    return _request_event(
        RightsCode.RIGHTS_VERIFICATION_FAILED,
        request,
        Actor.system("rights-by-email"),
        attempts=request.verification_attempts,
    )


def request_status_changed_event(
    *, request: DataRequest, actor: Actor, previous: str, status: str
) -> AuditEvent:
    """803: the request moved from `previous` to `status` (status codes)."""
    return _request_event(
        RightsCode.RIGHTS_REQUEST_STATUS_CHANGED, request, actor, **{"from": previous, "to": status}
    )


def request_extended_event(*, request: DataRequest, actor: Actor, due_on: date) -> AuditEvent:
    """804: the deadline was extended to `due_on` (Art 12(3))."""
    return _request_event(
        RightsCode.RIGHTS_REQUEST_EXTENDED, request, actor, due_on=due_on.isoformat()
    )


def request_completed_event(*, request: DataRequest, actor: Actor) -> AuditEvent:
    """805: the request was answered."""
    return _request_event(RightsCode.RIGHTS_REQUEST_COMPLETED, request, actor, kind=request.kind)


def request_refused_event(*, request: DataRequest, actor: Actor, basis: str) -> AuditEvent:
    """806: the request was refused on `basis` (a refusal-basis code, Art 12(5))."""
    return _request_event(RightsCode.RIGHTS_REQUEST_REFUSED, request, actor, basis=basis)


def note_added_event(*, request: DataRequest, note: RequestNote, actor: Actor) -> AuditEvent:
    """807: a DPO's note on the request (its text stays in the note)."""
    return _request_event(RightsCode.RIGHTS_NOTE_ADDED, request, actor, note_id=str(note.pk))


def export_built_event(
    *, request: DataRequest, export: ExportFile, kind: str, actor: Actor
) -> AuditEvent:
    """810: an access or portability export (`kind`) was built for the request."""
    return _request_event(
        RightsCode.RIGHTS_EXPORT_BUILT, request, actor, export_id=str(export.pk), kind=kind
    )


def export_transferred_event(*, request: DataRequest, http_status: int, actor: Actor) -> AuditEvent:
    """813: the portability export was sent to another provider (Art 20(2))."""
    return _request_event(
        RightsCode.RIGHTS_EXPORT_TRANSFERRED, request, actor, http_status=http_status
    )


def export_downloaded_event(*, export: ExportFile) -> AuditEvent:
    """811: the person downloaded their export."""
    return audit_log(
        code=RightsCode.RIGHTS_EXPORT_DOWNLOADED,
        actor=Actor.subject(export.subject_id),
        subject_id=export.subject_id,
        purpose=PURPOSE,
        data={"export_id": str(export.pk), "request_id": str(export.request_id)},
    )


def restriction_lift_notified_event(
    *, request: DataRequest, actor: Actor, lift_on: date
) -> AuditEvent:
    """814: the person was told their restriction lifts on `lift_on` (Art 18(3))."""
    return _request_event(
        RightsCode.RIGHTS_RESTRICTION_LIFT_NOTIFIED, request, actor, lift_on=lift_on.isoformat()
    )


def restriction_lifted_event(*, request: DataRequest, actor: Actor) -> AuditEvent:
    """815: the restriction the request set was lifted."""
    return _request_event(RightsCode.RIGHTS_RESTRICTION_LIFTED, request, actor)


def deadlines_reminded_event(*, requests: Iterable[DataRequest], emails: int) -> AuditEvent:
    """817: the DPOs were emailed (`emails`) the list of requests due soon."""
    return audit_log(
        code=RightsCode.RIGHTS_DEADLINES_REMINDED,
        actor=Actor.system("deadline_reminders"),
        purpose=PURPOSE,
        data={"requests": [str(request.pk) for request in requests], "emails": emails},
    )


def request_failed_event(*, request: DataRequest, failure: str) -> AuditEvent:
    """818: fulfilling the request failed (`failure` is a code); a DPO retries it."""
    return _request_event(
        RightsCode.RIGHTS_REQUEST_FAILED,
        request,
        RIGHTS_ACTOR,
        failure=failure,
        attempts=request.fulfil_attempts,
    )


def request_retried_event(*, request: DataRequest, actor: Actor) -> AuditEvent:
    """819: a DPO retried a failed request."""
    return _request_event(RightsCode.RIGHTS_REQUEST_RETRIED, request, actor)


def rectified_event(*, request: DataRequest, actor: Actor, fields: list[str]) -> AuditEvent:
    """820: the named fields were corrected (Art 16); field names, never values."""
    return _request_event(RightsCode.RIGHTS_RECTIFIED, request, actor, fields=fields)


def recipients_notified_event(
    *, request: DataRequest, actor: Actor, recipients: list[str]
) -> AuditEvent:
    """821: the recipients of the corrected data were told (Art 19); recipient codes."""
    return _request_event(
        RightsCode.RIGHTS_RECIPIENTS_NOTIFIED, request, actor, recipients=recipients
    )


def request_for_other_refused_event(
    *,
    actor_subject_id: uuid.UUID,
    subject_id: uuid.UUID | str | None,
    tried: uuid.UUID,
    target: str,
) -> AuditEvent:
    """822: someone signed in reached for another person's request or child (`target`)."""
    return audit_log(
        code=RightsCode.RIGHTS_REQUEST_FOR_OTHER_REFUSED,
        actor=Actor.subject(actor_subject_id),
        subject_id=subject_id,
        purpose=PURPOSE,
        data={"id": str(tried), "target": target},
    )


def _appeal_event(code: RightsCode, appeal: Appeal, actor: Actor, **data: object) -> AuditEvent:
    return audit_log(
        code=code,
        actor=actor,
        subject_id=appeal.subject_id,
        purpose=PURPOSE,
        data={"request_id": str(appeal.request_id), "appeal_id": str(appeal.pk), **data},
    )


def appeal_made_event(*, appeal: Appeal, actor: Actor) -> AuditEvent:
    """823: the person appealed the refusal of the request (their words stay in the appeal)."""
    return _appeal_event(RightsCode.RIGHTS_APPEAL_MADE, appeal, actor, due_on=str(appeal.due_on))


def appeal_decided_event(*, appeal: Appeal, actor: Actor) -> AuditEvent:
    """824: a second DPO decided the appeal: `outcome` is "granted" or "upheld"."""
    return _appeal_event(RightsCode.RIGHTS_APPEAL_DECIDED, appeal, actor, outcome=appeal.status)


def appeals_reminded_event(*, appeals: Iterable[Appeal], emails: int) -> AuditEvent:
    """825: the DPOs were emailed (`emails`) the list of appeals due soon or overdue."""
    return audit_log(
        code=RightsCode.RIGHTS_APPEALS_REMINDED,
        actor=Actor.system("appeal_reminders"),
        purpose=PURPOSE,
        data={"appeals": [str(appeal.pk) for appeal in appeals], "emails": emails},
    )


def evidence_exported_event(
    *, request: DataRequest, actor: Actor, events: int, chain_ok: bool
) -> AuditEvent:
    """826: a DPO downloaded the request's evidence package (`events` audit events in it;
    whether their chain verified)."""
    return _request_event(
        RightsCode.RIGHTS_EVIDENCE_EXPORTED, request, actor, events=events, chain_ok=chain_ok
    )

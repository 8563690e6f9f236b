"""The evidence package of one request: a PDF a DPO can hand to a supervisory authority.

Accountability (GDPR Art 5(2), Art 24) and the authority's powers to ask for information
(Art 58(1)(a)); the US state laws' records of requests (11 CCR 7101). The package holds:

- the request's facts (kind, law, channel, dates, status, what was asked, the refusal and
  any appeal, with their reasons);
- the timeline of every step: the request's audit events, and the outbox's events of the
  emails about it, with their names and times (UTC);
- who did what and when: staff by username and role (it is the controller's own record
  for an authority), the person, or the system;
- what was sent: the emails about the request, to the person (or the parent acting for
  them): subject line, queued and sent times. Not the bodies: they repeat the facts the
  package already gives, and they carry one-time codes, download links and the person's
  own words, which an authority does not need to see the steps were taken; a body can be
  produced from the outbox on the authority's request;
- the audit-chain verification of those events: each event's hash, and whether each
  matches its content and follows the event before it (privacy.audit).

Built from HTML by WeasyPrint, which may fetch nothing from the network. Building it is a
staff view of decrypted data (privacy.access), recorded with the fields it shows, and the
download is itself an audit event (826).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from qualipact.comms.models import OutboundEmail
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import audit_code_name, audit_events_verify
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.rights import events
from qualipact.rights.models import Appeal, DataRequest
from qualipact.rights.services.fulfil import details_in_words
from qualipact.rights.services.requests import ADDRESS_KEY, details_of
from qualipact.web.roles import roles_of

EVENT_LIMIT = 2000
# The outbox's events of an email (comms.events: queued, sent, failed).
EMAIL_EVENT_CODES = (500, 501, 502)


@dataclass(frozen=True)
class EvidencePackage:
    filename: str  # no personal data: the request's reference and the day
    content: bytes  # the PDF
    events: int
    chain_ok: bool


@dataclass
class _Step:
    event: AuditEvent
    when: str
    name: str
    who: str
    role: str
    details: str
    hash: str = ""
    ok: bool = True
    problem: str = ""


@dataclass
class _Evidence:
    request: DataRequest
    asked: list[tuple[str, str]]
    refusal_reason: str
    extension_reason: str
    appeals: list[dict[str, Any]]
    steps: list[_Step]
    emails: list[dict[str, Any]]
    staff: list[dict[str, Any]] = field(default_factory=list)


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _event_label(code: int) -> str:
    """RIGHTS_REQUEST_REFUSED -> "Request refused"; EMAIL_SENT -> "Email sent"."""
    name = audit_code_name(code)
    words = name.removeprefix("RIGHTS_").replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def _details_text(data: dict[str, Any]) -> str:
    shown = {k: v for k, v in data.items() if k not in ("request_id", "email_id")}
    return ", ".join(f"{key}: {value}" for key, value in sorted(shown.items()))


def _staff_of(ids: set[str]) -> dict[str, tuple[str, str]]:
    """{staff user id: (username, roles held now)} for the staff actors of the events."""
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    people: dict[str, tuple[str, str]] = {}
    for user in get_user_model().objects.filter(pk__in=valid):
        roles = ", ".join(sorted(role.label for role in roles_of(user))) or "no staff role now"
        people[str(user.pk)] = (str(user.username), roles)
    return people


def _emails(data_request: DataRequest) -> list[OutboundEmail]:
    """The emails about the request: to the person (or the parent acting for them), for
    answering rights, since it came in, whose text names the request's reference."""
    people = [data_request.subject_id]
    if data_request.requested_by_id:
        people.append(data_request.requested_by_id)
    candidates = OutboundEmail.objects.filter(
        subject_id__in=people,
        purpose=events.PURPOSE,
        created_at__gte=data_request.received_at,
    ).order_by("created_at")
    reference = str(data_request.pk)
    return [email for email in candidates if reference in (email.body or "")]


def _collect(data_request: DataRequest, viewer: StaffView) -> _Evidence:
    """Everything the package shows, decrypted, with the staff views recorded."""
    emails = _emails(data_request)
    email_ids = [str(email.pk) for email in emails]
    rows = list(
        AuditEvent.objects.filter(
            Q(data__request_id=str(data_request.pk))
            | Q(code__in=EMAIL_EVENT_CODES, data__email_id__in=email_ids)
        ).order_by("id")[:EVENT_LIMIT]
    )
    checks = {check.event_id: check for check in audit_events_verify(rows)}
    staff = _staff_of({e.actor_id for e in rows if e.actor_kind == AuditEvent.ActorKind.STAFF})
    steps = []
    for event in rows:
        if event.actor_kind == AuditEvent.ActorKind.STAFF:
            who, role = staff.get(event.actor_id, (f"staff member {event.actor_id}", ""))
        elif event.actor_kind == AuditEvent.ActorKind.SUBJECT:
            parent = str(data_request.requested_by_id or "")
            who = "the parent acting for the person" if event.actor_id == parent else "the person"
            role = ""
        else:
            who, role = f"the system ({event.actor_id or 'site'})", ""
        check = checks[event.id]
        steps.append(
            _Step(
                event=event,
                when=_utc(event.occurred_at),
                name=_event_label(event.code),
                who=who,
                role=role,
                details=_details_text(event.data or {}),
                hash=check.hash,
                ok=check.ok,
                problem=check.reason,
            )
        )
    by_staff: dict[str, dict[str, Any]] = {}
    for step in steps:
        if step.event.actor_kind != AuditEvent.ActorKind.STAFF:
            continue
        entry = by_staff.setdefault(
            step.who, {"username": step.who, "role": step.role, "steps": [], "first": step.when}
        )
        entry["steps"].append(f"{step.name} ({step.when})")
    appeals = [
        {
            "appeal": appeal,
            "made": _utc(appeal.made_at),
            "decided": _utc(appeal.decided_at),
            "text": appeal.text,
            "decision_reason": appeal.decision_reason or "",
            "decided_by": staff.get(appeal.decided_by, (appeal.decided_by, ""))[0],
            "refused_by": staff.get(appeal.refused_by, (appeal.refused_by, ""))[0],
        }
        for appeal in Appeal.objects.filter(request=data_request).order_by("made_at")
    ]
    parent_id = data_request.requested_by_id
    asked = details_in_words(
        {k: v for k, v in details_of(data_request).items() if k != ADDRESS_KEY}
    )
    viewer.record(
        subject=data_request.subject_id,
        model="rights.DataRequest",
        fields=["details", "refusal_reason", "extension_reason"],
    )
    if appeals:
        viewer.record(
            subject=data_request.subject_id,
            model="rights.Appeal",
            fields=["text", "decision_reason"],
            records=len(appeals),
        )
    for person in {email.subject_id for email in emails}:
        viewer.record(
            subject=person,
            model="comms.OutboundEmail",
            fields=["subject_line"],
            records=sum(1 for email in emails if email.subject_id == person),
        )
    return _Evidence(
        request=data_request,
        asked=asked,
        refusal_reason=data_request.refusal_reason or "",
        extension_reason=data_request.extension_reason or "",
        appeals=appeals,
        steps=steps,
        emails=[
            {
                "subject_line": email.subject_line,
                "to": "the parent acting for the person"
                if parent_id and email.subject_id == parent_id
                else "the person",
                "queued": _utc(email.created_at),
                "sent": _utc(email.sent_at),
                "status": email.get_status_display(),
            }
            for email in emails
        ],
        staff=list(by_staff.values()),
    )


def _facts(r: DataRequest) -> list[tuple[str, str]]:
    facts = [
        ("Reference", str(r.pk)),
        ("Kind", r.get_kind_display()),
        ("Law", r.get_regime_display()),
        ("Made through", r.get_channel_display()),
        ("Made for someone else", "Yes: a parent for their child" if r.requested_by_id else "No"),
        ("Received", _utc(r.received_at)),
        ("Identity verified", _utc(r.verified_at) or "Not verified"),
        ("Due", r.due_on.isoformat()),
        ("Extended to", r.extended_due_on.isoformat() if r.extended_due_on else "Not extended"),
        ("Status", r.get_status_display()),
        ("Answered", _utc(r.completed_at) or "Not yet"),
    ]
    if r.refusal_basis:
        facts.append(("Basis of the refusal", r.get_refusal_basis_display()))
    if r.failure_code:
        facts.append(("Failure", r.failure_code))
    return facts


def _no_network(url: str) -> Any:
    """What the PDF's URL fetcher does with any URL (an image, a font, a stylesheet):
    refuse it, local or not. The package embeds everything it shows."""
    raise ValueError("The evidence package fetches nothing")


def _pdf(html: str) -> bytes:
    # Imported when used: WeasyPrint loads Pango.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class NoNetwork(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            return _no_network(url)

    fetcher = NoNetwork(allowed_protocols=(), fail_on_errors=False)
    return bytes(HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf())


@transaction.atomic
def evidence_build(*, request: DataRequest, viewer: StaffView) -> EvidencePackage:
    """Build the evidence package of `request` for the DPO `viewer` (a StaffView with a
    staff actor), record the staff view of what it shows and the download (826), and
    return the PDF with a filename without personal data.

    Raises ApplicationError for a request whose person's key is gone (erased: what they
    wrote cannot be read; the audit trail stays for `manage.py audit_verify`).
    """
    if viewer.actor.kind != AuditEvent.ActorKind.STAFF:
        raise ApplicationError("Only a staff member downloads an evidence package", {})
    data_request = DataRequest.objects.select_related("subject").get(pk=request.pk)
    evidence = _collect(data_request, viewer)
    chain_ok = all(step.ok for step in evidence.steps)
    broken = [step for step in evidence.steps if not step.ok]
    html = render_to_string(
        "rights/dpo/evidence.html",
        {
            "e": evidence,
            "r": data_request,
            "facts": _facts(data_request),
            "chain_ok": chain_ok,
            "broken": broken,
            "made_at": _utc(timezone.now()),
            "made_by": _staff_of({viewer.actor.id}).get(viewer.actor.id, (viewer.actor.id, ""))[0],
        },
    )
    content = _pdf(html)
    events.evidence_exported_event(
        request=data_request, actor=viewer.actor, events=len(evidence.steps), chain_ok=chain_ok
    )
    day = timezone.now().astimezone(UTC).date().isoformat()
    return EvidencePackage(
        filename=f"evidence-request-{data_request.pk}-{day}.pdf",
        content=content,
        events=len(evidence.steps),
        chain_ok=chain_ok,
    )

"""Reads of data-subject requests: for the DPO's pages (first; every read that decrypts
for staff records the view, privacy.access) and for the person's pages and the API."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from qualipact.privacy import vault
from qualipact.privacy.access import StaffView
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.fields import encrypted_context
from qualipact.privacy.periods import DaysBetween, period_index, periods_range
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.registry import Category, ModelDeclaration, ResolvedField, Source, registry
from qualipact.rights.models import DataRequest
from qualipact.rights.services import (
    RectifiableField,
    corrected_note,
    details_of,
    model_name,
    rectifiable_fields,
)
from qualipact.rights.services.dpo import failure_reason
from qualipact.rights.services.fulfil import details_in_words

# -- the DPO's pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonName:
    """A person's name as they declared it, and where (a registry label: "name (inquiry)")."""

    name: str
    source: str


def _name_fields() -> list[tuple[ModelDeclaration, ResolvedField]]:
    """Where people declare their name, best first: a name they gave us, then one from a
    sign-in provider, then their username (registry category IDENTITY, never a secret)."""
    found = [
        (declaration, spec)
        for declaration in registry.subject_declarations()
        if declaration.subject_field == "subject"
        for spec in declaration.fields.values()
        if spec.category is Category.IDENTITY and not spec.secret and not spec.blind_index
    ]
    return sorted(
        found, key=lambda pair: (pair[1].name != "name", pair[1].source != Source.PROVIDED)
    )


def subject_names(
    subject_ids: Iterable[uuid.UUID], *, staff_view: StaffView
) -> dict[uuid.UUID, PersonName]:
    """subject id -> the newest name the person declared, for a staff page; a person with
    no name on file (or erased) is absent. At most one query per declared name field,
    whatever the number of people; each name read is one staff-view event on that
    person's record (privacy.access: the person sees it on "Who accessed my data")."""
    wanted = {uuid.UUID(str(subject_id)) for subject_id in subject_ids}
    names: dict[uuid.UUID, PersonName] = {}
    for declaration, spec in _name_fields():
        missing = wanted - names.keys()
        if not missing:
            break
        model = declaration.model
        newest = "-created_at" if any(f.name == "created_at" for f in model._meta.fields) else "-pk"
        rows = (
            model._base_manager.filter(subject_id__in=missing)
            .order_by(newest)
            .values_list("subject_id", spec.name)
        )
        for subject_id, value in rows:
            if subject_id in names or value in (None, ""):
                continue
            if spec.encrypted:
                try:
                    value = vault.decrypt(subject_id, encrypted_context(model, spec.name), value)
                except ApplicationError:  # the key is gone: so is the name
                    continue
            names[subject_id] = PersonName(str(value), f"{spec.label} ({declaration.label_human})")
            staff_view.record(subject=subject_id, model=declaration.label, fields=[spec.name])
    return names


_VERIFIED = {
    DataRequest.Channel.ACCOUNT: "Signed in to their account",
    DataRequest.Channel.EMAIL: "Proved their email address with a one-time code sent to it",
    DataRequest.Channel.PARENT: "A parent, signed in to their own account, for their child",
    DataRequest.Channel.API: "Signed in to their account, through the API",
}


def request_verified_how(data_request: DataRequest) -> str:
    """How the person who asked proved who they are, in words."""
    if data_request.verified_at is None:
        if data_request.status == DataRequest.Status.VERIFYING:
            return "Not verified yet: waiting for the code we emailed"
        return "Never verified"
    how = _VERIFIED.get(DataRequest.Channel(data_request.channel), data_request.channel)
    return f"{how}, on {data_request.verified_at:%Y-%m-%d %H:%M} UTC"


@dataclass
class DpoRequest:
    """One request as the DPO's page shows it. `asked`: [(what, the person's words)];
    `days_left` is negative when late; `failure` the reason in words ("" unless failed)."""

    request: DataRequest
    person: PersonName | None
    parent: PersonName | None
    verified: str
    asked: list[tuple[str, str]]
    extension_reason: str
    refusal_reason: str
    due: date
    days_left: int
    overdue: bool
    failure: str
    outcome: list[str] = field(default_factory=list)

    @property
    def days_late(self) -> int:
        return -self.days_left


def _decrypted(data_request: DataRequest, name: str) -> str:
    try:
        return str(getattr(data_request, name) or "")
    except ApplicationError:  # the person's key is gone: their words went with it
        return ""


def request_texts_for_staff(
    data_request: DataRequest, *, staff_view: StaffView
) -> tuple[dict[str, Any], str, str]:
    """The request's encrypted texts, decrypted for a staff page or the DPO API: (details,
    extension reason, refusal reason; "" when there is none). The fields that hold
    something are recorded as one staff view (privacy.access), so the person sees the
    read on "Who accessed my data"."""
    try:
        details = details_of(data_request)
    except ApplicationError:
        details = {}
    extension = _decrypted(data_request, "extension_reason")
    refusal = _decrypted(data_request, "refusal_reason")
    shown = {"details": details, "extension_reason": extension, "refusal_reason": refusal}
    if any(shown.values()):
        staff_view.record(
            subject=data_request.subject_id,
            model=DataRequest._meta.label,
            fields=[name for name, value in shown.items() if value],
        )
    return details, extension, refusal


def request_for_dpo(
    data_request: DataRequest, *, staff_view: StaffView, today: date | None = None
) -> DpoRequest:
    """Everything the DPO's request page shows, decrypted: who asked (their name and how
    they were verified), what they asked in their own words, the deadline, a failure's
    reason. Each decrypted field shown is recorded as one staff view (privacy.access)."""
    today = today or timezone.localdate()
    subjects = [data_request.subject_id]
    if data_request.requested_by_id:
        subjects.append(data_request.requested_by_id)
    names = subject_names(subjects, staff_view=staff_view)
    details, extension, refusal = request_texts_for_staff(data_request, staff_view=staff_view)
    due = data_request.effective_due_on
    return DpoRequest(
        request=data_request,
        person=names.get(data_request.subject_id),
        parent=names.get(data_request.requested_by_id) if data_request.requested_by_id else None,
        verified=request_verified_how(data_request),
        asked=details_in_words(details),
        extension_reason=extension,
        refusal_reason=refusal,
        due=due,
        days_left=(due - today).days,
        overdue=data_request.is_open and due < today,
        failure=failure_reason(data_request.failure_code)
        if data_request.status == DataRequest.Status.FAILED
        else "",
        outcome=request_summary(data_request)["lines"]
        if data_request.status == DataRequest.Status.COMPLETED
        else [],
    )


@dataclass(frozen=True)
class RectificationTarget:
    """One field of one of the person's rows that a correction may write to. `key` is the
    picker's value ("app.Model|record id|field"); `row` names the row in words."""

    field: RectifiableField
    record: str
    row: str

    @property
    def key(self) -> str:
        return f"{self.field.declaration.label}|{self.record}|{self.field.spec.name}"

    @property
    def label(self) -> str:
        return f"{self.row.capitalize()}: {self.field.spec.label}"

    @property
    def group(self) -> str:
        return self.field.declaration.label_human_plural.capitalize()

    def change(self, value: Any) -> dict[str, Any]:
        """The change for `rectification_apply`."""
        label = self.field.declaration.label
        return {
            "model": label,
            "record": self.record,
            "field": self.field.spec.name,
            "value": value,
        }


def rectification_targets(subject_id: uuid.UUID) -> list[RectificationTarget]:
    """Every rectifiable field (`rectifiable_fields`) of every row the person has, grouped
    by model in registry order: what the DPO picks a correction from. Reads ids and dates
    only, nothing decrypted: one query per model that has a rectifiable field."""
    by_model: dict[str, list[RectifiableField]] = {}
    for rectifiable in rectifiable_fields():
        by_model.setdefault(rectifiable.declaration.label, []).append(rectifiable)
    targets: list[RectificationTarget] = []
    for fields in by_model.values():
        declaration = fields[0].declaration
        model = declaration.model
        dated = next(
            (f.name for f in model._meta.fields if f.name in ("created_at", "received_at")), None
        )
        rows = model._base_manager.filter(subject_id=subject_id).order_by(
            *([dated] if dated else []), "pk"
        )
        values = list(rows.values_list("pk", *([dated] if dated else [])))
        for pk, *when in values:
            row = declaration.label_human
            if len(values) > 1 and when and when[0]:
                row = f"{row} of {when[0]:%Y-%m-%d %H:%M}"
            targets.extend(RectificationTarget(f, str(pk), row) for f in fields)
    return targets


def rectification_current(target: RectificationTarget, *, staff_view: StaffView) -> Any:
    """The value the correction replaces, decrypted for the DPO and recorded as a view."""
    model = target.field.declaration.model
    row = model._base_manager.filter(pk=target.record).first()
    if row is None:
        return None
    try:
        value = getattr(row, target.field.spec.name)
    except ApplicationError:
        return None
    staff_view.record(
        subject=row.subject_id,  # type: ignore[attr-defined]
        model=target.field.declaration.label,
        fields=[target.field.spec.name],
    )
    choices = dict(target.field.model_field.flatchoices or [])
    return choices.get(value, value)


# -- the person's pages ------------------------------------------------------------------


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
        lines.append(f"We cannot do what you asked: {data_request.refusal_basis_for_person}.")
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
        lines.append(corrected_note(list(outcome.get("corrected", []))))
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


# -- legal holds in force (the DPO's list) -----------------------------------------------


@dataclass(frozen=True)
class HoldRow:
    """One legal hold in force, for the DPO's list: no decrypted value (the note stays on
    the request page). `covers` in words; `request_id` the person's latest request, where
    the hold is lifted, or None."""

    hold_id: uuid.UUID
    basis: str
    covers: str
    placed_at: datetime
    request_id: uuid.UUID | None


def legal_holds_in_force() -> list[HoldRow]:
    """Every hold not lifted, newest first, each with the person's latest request: two
    queries whatever the number of holds."""
    from django.db.models import OuterRef, Subquery

    from qualipact.retention.models import LegalHold

    latest = DataRequest.objects.filter(subject_id=OuterRef("subject_id")).order_by("-received_at")
    holds = (
        LegalHold.objects.filter(lifted_at__isnull=True)
        .annotate(request_id=Subquery(latest.values("pk")[:1]))
        .only("id", "basis", "models_held", "placed_at", "subject_id")
        .order_by("-placed_at")
    )
    labels = {d.label: d.label_human_plural for d in registry.declarations()}
    return [
        HoldRow(
            hold_id=hold.pk,
            basis=hold.get_basis_display(),
            covers=", ".join(labels.get(m, "other records") for m in hold.models_held)
            or "everything we hold about the person",
            placed_at=hold.placed_at,
            request_id=hold.request_id,
        )
        for hold in holds
    ]

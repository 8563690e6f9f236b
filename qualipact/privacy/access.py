"""Access transparency: every staff view of decrypted personal data is one audit event.

The selector that decrypts for a staff page calls `staff_view_record` in the same
transaction, with the staff member, their role, the purpose and the fields shown, so
the person can see who accessed their data ("Who accessed my data") and the access
export lists it (GDPR Art. 15(1)(c) recipients, Art. 5(2) accountability, Art. 32;
policy §4: access only by authorised personnel who need it). Field names only, never
the values.

Reading them back: `staff_access_events(subject_id)` is the person's accesses, newest
first, and `staff_accesses_describe(events, role_labels=...)` turns a page of them into
plain language from the registry's labels ("inquiry: name, email, message"), never
naming the staff member. Observers (`staff_view_observer_register`) hear of every
recorded view once its transaction commits: the back office counts them for its bulk-
access alert without the core knowing of it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.registry import ModelDeclaration, registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffView:
    """Who will see decrypted data on a staff page: the staff member (`actor`), the role
    they act in (a `web.roles.Role` value) and the purpose (a `privacy.purposes` code).
    Selectors that decrypt for staff take one and record the view with it."""

    actor: Actor
    role: str
    purpose: str

    def record(
        self,
        *,
        subject: DataSubject | uuid.UUID | str,
        model: str,
        fields: Iterable[str],
        records: int = 1,
    ) -> AuditEvent:
        """`staff_view_record` for this viewer."""
        return staff_view_record(
            actor=self.actor,
            subject=subject,
            role=self.role,
            purpose=self.purpose,
            model=model,
            fields=fields,
            records=records,
        )


def staff_view_record(
    *,
    actor: Actor,
    subject: DataSubject | uuid.UUID | str,
    role: str,
    purpose: str,
    model: str,
    fields: Iterable[str],
    records: int = 1,
) -> AuditEvent:
    """Record that the staff member `actor`, acting as `role` (a `web.roles.Role`
    value), saw the decrypted `fields` of `records` rows of `model` (an app label such as
    "contact.Inquiry") of `subject`, for `purpose` (a code of `privacy.purposes`).

    Raises `ValueError` for a non-staff actor, an unknown purpose, or no fields.
    """
    if actor.kind != AuditEvent.ActorKind.STAFF:
        raise ValueError("Only a staff member's view is recorded as a staff access")
    shown = sorted(set(fields))
    if not shown:
        raise ValueError("A staff access names the fields shown")
    subject_id = subject.pk if isinstance(subject, DataSubject) else subject
    event = audit_log(
        code=EventCode.SUBJECT_DATA_VIEWED,
        actor=actor,
        subject_id=subject_id,
        purpose=purpose,
        data={"role": role, "model": model, "fields": shown, "records": records},
    )
    if _observers:
        recorded = StaffViewRecorded(
            event_id=event.id,
            staff_id=actor.id,
            subject_id=uuid.UUID(str(subject_id)),
            occurred_at=event.occurred_at,
        )
        # Only a view that really happened (its transaction committed) is counted; an
        # observer's failure is logged and never undoes or breaks the page.
        transaction.on_commit(partial(_observe, recorded), robust=True)
    return event


# -- observers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffViewRecorded:
    """What an observer hears of one recorded staff view: ids and the time (UTC) only."""

    event_id: int
    staff_id: str
    subject_id: uuid.UUID
    occurred_at: datetime


StaffViewObserver = Callable[[StaffViewRecorded], None]
_observers: dict[str, StaffViewObserver] = {}


def staff_view_observer_register(name: str, observer: StaffViewObserver) -> None:
    """Call `observer(recorded)` after the commit of every transaction that recorded a
    staff view (registering the same `name` again replaces it). Feature apps register
    in their AppConfig.ready, so the core imports none of them."""
    _observers[name] = observer


def _observe(recorded: StaffViewRecorded) -> None:
    for name, observer in list(_observers.items()):
        try:
            observer(recorded)
        except Exception:
            logger.exception("Staff-view observer %s failed on event %s", name, recorded.event_id)


# -- reading them back --------------------------------------------------------------------


def staff_access_events(subject_id: uuid.UUID | str) -> QuerySet[AuditEvent]:
    """The person's recorded staff views (event 111), newest first; a queryset, so a page
    paginates it."""
    return AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, subject_id=subject_id
    ).order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class ViewedRecords:
    """What one access showed, in a person's words: `records` is the registry's label of
    the kind of record ("inquiry", or "3 inquiries"), `fields` the fields' labels."""

    records: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.records}: {', '.join(self.fields)}"


@dataclass(frozen=True)
class StaffAccess:
    """One access as the person reads it: when (UTC), the staff member's role and the
    purpose as labels, and what was seen. Never who the staff member is."""

    occurred_at: datetime
    role: str
    purpose: str
    viewed: tuple[ViewedRecords, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "role": self.role,
            "purpose": self.purpose,
            "viewed": [str(item) for item in self.viewed],
        }


STAFF_MEMBER = "A member of staff"
# Views of one page load arrive as one event per kind of record, written together: rows
# of the same staff member, role and purpose this close together are shown as one.
_SAME_ACCESS = timedelta(seconds=2)


def _viewed(
    data: Mapping[str, object], declarations: Mapping[str, ModelDeclaration]
) -> ViewedRecords:
    declaration = declarations.get(str(data.get("model", "")))
    count = int(data.get("records", 1) or 1)  # type: ignore[call-overload]
    names = [str(name) for name in data.get("fields", []) or []]  # type: ignore[attr-defined]
    if declaration is None:
        # A kind of record that no longer exists: say so rather than show an internal name.
        return ViewedRecords("records we no longer keep", ("details",))
    label = declaration.label_human if count == 1 else declaration.label_human_plural
    records = label if count == 1 else f"{count} {label}"
    # In the order the registry declares them, as the person's own pages list them.
    fields = [spec.label for name, spec in declaration.fields.items() if name in names]
    if len(fields) < len(set(names)):
        fields.append("other details")  # a field no longer declared
    return ViewedRecords(records, tuple(dict.fromkeys(fields)))


def staff_accesses_describe(
    events: Sequence[AuditEvent] | Iterable[AuditEvent], *, role_labels: Mapping[str, str]
) -> list[StaffAccess]:
    """Events 111 (newest first) in plain language: the role through `role_labels` (a
    role value to its label, such as `dict(web.roles.Role.choices)`), the purpose through
    `privacy.purposes`, what was seen through the registry's labels. Views written
    together by one staff member (one page load) become one access."""
    declarations = {d.label: d for d in registry.declarations()}
    accesses: list[StaffAccess] = []
    last_key: tuple[str, str, str] | None = None
    for event in events:
        role = str(event.data.get("role", ""))
        key = (event.actor_id, role, event.purpose)
        viewed = _viewed(event.data, declarations)
        previous = accesses[-1] if accesses else None
        if (
            previous is not None
            and key == last_key
            and previous.occurred_at - event.occurred_at <= _SAME_ACCESS
        ):
            accesses[-1] = StaffAccess(
                occurred_at=previous.occurred_at,
                role=previous.role,
                purpose=previous.purpose,
                # The same page shown again within the moment says the same once.
                viewed=previous.viewed if viewed in previous.viewed else (*previous.viewed, viewed),
            )
            continue
        purpose = PURPOSES.get(event.purpose)
        accesses.append(
            StaffAccess(
                occurred_at=event.occurred_at,
                role=role_labels.get(role, STAFF_MEMBER),
                purpose=purpose.label if purpose else "Not stated",
                viewed=(viewed,),
            )
        )
        last_key = key
    return accesses


def staff_accesses_of(
    subject_id: uuid.UUID | str, *, role_labels: Mapping[str, str]
) -> list[StaffAccess]:
    """Every recorded staff view of the person, described (`staff_accesses_describe`),
    newest first: what "Who accessed my data" and the access export list."""
    return staff_accesses_describe(staff_access_events(subject_id), role_labels=role_labels)

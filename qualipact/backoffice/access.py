"""Access transparency in the back office: what a person reads of staff views of their
data, the alert on bulk access, and the security officer's view of both.

Every staff view of decrypted personal data is recorded by the selector that decrypts
(`privacy.access`, event 111). Here:

- `subject_accesses_page` is one page of "Who accessed my data": date, the staff
  member's role and the purpose as labels, what was seen in the registry's words; never
  who the staff member is (GDPR Art 15(1)(c), policy §4).
- `access_alert_check` runs after every committed staff view (registered as an observer
  in `BackofficeConfig.ready`): when one staff member has viewed the data of more than
  `ACCESS_ALERT_PEOPLE` distinct people within `ACCESS_ALERT_WINDOW_MINUTES`, every
  security officer is emailed and event 920 is written, at most once per staff member
  and window (GDPR Art 32(1)(d): regularly testing the measures; Art 33: noticing a breach).
- `access_alerts_recent`, `staff_accesses_recent` and `staff_access_totals` feed the
  Security page: ids, counts and field labels, never a person's plaintext data.

The system's own reads (building an export the person asked for, retention sweeps) are
not listed to the person: no one saw the data, and the export itself reaches only them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from qualipact.accounts.models import User
from qualipact.backoffice import events
from qualipact.backoffice.events import BackofficeCode
from qualipact.comms.services import email_queue
from qualipact.privacy.access import (
    StaffAccess,
    StaffView,
    StaffViewRecorded,
    staff_access_events,
    staff_accesses_describe,
)
from qualipact.privacy.audit import EventCode
from qualipact.privacy.errors import VaultError
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.registry import registry
from qualipact.web.links import site_url
from qualipact.web.roles import Role, staff_with_role

ROLE_LABELS: dict[str, str] = dict(Role.choices)
ACCESSES_PER_PAGE = 25
RECENT_LIMIT = 50
ALERT_DAYS = 7  # the console's count of alerts waiting for a security officer
SECURITY_PURPOSE = events.ACCESS_ALERT_PURPOSE


# -- what a person reads ------------------------------------------------------------------


@dataclass(frozen=True)
class AccessPage:
    """One page of a person's accesses: `accesses` newest first, `page` for navigation."""

    accesses: list[StaffAccess]
    page: Page


def subject_accesses_page(*, subject_id: uuid.UUID | str, page: Any) -> AccessPage:
    """Page `page` (a number as typed in the address; anything else gives the nearest
    valid page) of the person's recorded staff views, described in plain language."""
    paginator = Paginator(staff_access_events(subject_id), ACCESSES_PER_PAGE)
    current = paginator.get_page(page)
    accesses = staff_accesses_describe(list(current.object_list), role_labels=ROLE_LABELS)
    return AccessPage(accesses=accesses, page=current)


# -- the bulk-access alert ----------------------------------------------------------------


def alert_window() -> tuple[int, int]:
    """The alert's threshold (people) and window (minutes), from the settings."""
    return int(settings.ACCESS_ALERT_PEOPLE), int(settings.ACCESS_ALERT_WINDOW_MINUTES)


@transaction.atomic
def access_alert_check(*, staff_id: str) -> AuditEvent | None:
    """Raise the bulk-access alert for the staff member `staff_id` (a user id) when due.

    Due when they viewed the data of more than `ACCESS_ALERT_PEOPLE` distinct people in
    the last `ACCESS_ALERT_WINDOW_MINUTES` minutes and no alert for them was raised in
    that window. Then event 920 is written and every security officer is emailed (the
    staff member's username, the count and the window; nothing of the people viewed).
    Returns the event, or None when no alert is due.
    """
    threshold, minutes = alert_window()
    since = timezone.now() - timedelta(minutes=minutes)
    # The staff member's row is the lock: two views committing at once raise one alert.
    user_id = _user_id(staff_id)
    staff = User.objects.select_for_update().filter(pk=user_id).first() if user_id else None
    if staff is None:
        return None
    people = (
        AuditEvent.objects.filter(
            code=EventCode.SUBJECT_DATA_VIEWED,
            actor_kind=AuditEvent.ActorKind.STAFF,
            actor_id=staff_id,
            occurred_at__gte=since,
        )
        .values("subject_id")
        .distinct()
        .count()
    )
    if people <= threshold:
        return None
    already = AuditEvent.objects.filter(
        code=BackofficeCode.ACCESS_ALERT_RAISED, occurred_at__gte=since, data__staff=staff_id
    ).exists()
    if already:
        return None
    event = events.access_alert_raised_event(
        staff_id=staff_id, people=people, threshold=threshold, window_minutes=minutes
    )
    _security_officers_email(staff=staff, people=people, threshold=threshold, minutes=minutes)
    return event


def _user_id(staff_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(staff_id)
    except ValueError:
        return None


def _security_officers_email(*, staff: User, people: int, threshold: int, minutes: int) -> int:
    body = (
        f"The staff member {staff.username} viewed the personal data of {people} different "
        f"people within {minutes} minutes. The alert is raised above {threshold} people in "
        f"{minutes} minutes.\n\n"
        "Check with them, or with their manager, that each of these views was needed. The "
        "Security page of the staff console lists the alert and every recent staff access:\n"
        f"{site_url('backoffice:security')}\n\n"
        "This message names none of the people whose data was viewed."
    )
    sent = 0
    for officer in staff_with_role(Role.SECURITY_OFFICER):
        try:
            address = officer.email
        except VaultError:
            address = None
        if not address:
            continue  # an erased staff member: nobody to tell at that address
        email_queue(
            subject=officer.subject,
            to=str(address),
            subject_line="Staff access alert: many people's data viewed",
            body=body,
            purpose="security",
        )
        sent += 1
    return sent


def staff_view_observed(recorded: StaffViewRecorded) -> None:
    """The observer `privacy.access` calls after each committed staff view."""
    access_alert_check(staff_id=recorded.staff_id)


# -- the Security page ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccessAlert:
    occurred_at: datetime
    staff_id: str
    staff_username: str
    people: int
    threshold: int
    window_minutes: int


@dataclass(frozen=True)
class StaffAccessRow:
    """One recorded staff view for the security officer: who (staff), as what, why, which
    kind of record and fields (labels), how many rows, and whose (a subject id only)."""

    occurred_at: datetime
    staff_username: str
    role: str
    purpose: str
    records: str
    fields: tuple[str, ...]
    count: int
    subject_id: uuid.UUID | None


@dataclass(frozen=True)
class StaffTotal:
    """One staff member's views over the last day: distinct people, views, the latest."""

    staff_username: str
    people: int
    views: int
    last_at: datetime


def access_alerts_count(*, days: int = ALERT_DAYS) -> int:
    """Alerts raised in the last `days` days (the console's waiting count)."""
    since = timezone.now() - timedelta(days=days)
    return AuditEvent.objects.filter(
        code=BackofficeCode.ACCESS_ALERT_RAISED, occurred_at__gte=since
    ).count()


def _usernames(viewer: StaffView, staff_ids: set[str]) -> dict[str, str]:
    """The staff members' usernames, their view recorded like any other: a username is
    personal data of the staff member too."""
    ids = [pk for pk in map(_user_id, staff_ids) if pk is not None]
    users = list(User.objects.filter(pk__in=ids).only("pk", "username", "subject_id"))
    for user in users:
        viewer.record(subject=user.subject_id, model="accounts.User", fields=["username"])
    return {str(user.pk): user.username for user in users}


@transaction.atomic
def access_alerts_recent(*, viewer: StaffView, limit: int = RECENT_LIMIT) -> list[AccessAlert]:
    """The latest `limit` alerts, newest first, each naming the staff member concerned
    (the view of their username is recorded through `viewer`)."""
    alerts = list(
        AuditEvent.objects.filter(code=BackofficeCode.ACCESS_ALERT_RAISED).order_by("-id")[:limit]
    )
    names = _usernames(viewer, {str(a.data.get("staff", "")) for a in alerts})
    return [
        AccessAlert(
            occurred_at=alert.occurred_at,
            staff_id=str(alert.data.get("staff", "")),
            staff_username=names.get(str(alert.data.get("staff", "")), "(account removed)"),
            people=int(alert.data.get("people", 0)),
            threshold=int(alert.data.get("threshold", 0)),
            window_minutes=int(alert.data.get("window_minutes", 0)),
        )
        for alert in alerts
    ]


@transaction.atomic
def staff_accesses_recent(
    *, viewer: StaffView, limit: int = RECENT_LIMIT
) -> tuple[list[StaffAccessRow], list[StaffTotal]]:
    """The latest `limit` recorded staff views (newest first), and per staff member the
    distinct people and views of the last 24 hours. Field labels and subject ids only."""
    recent = list(
        AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED).order_by("-id")[:limit]
    )
    since = timezone.now() - timedelta(days=1)
    totals = list(
        AuditEvent.objects.filter(
            code=EventCode.SUBJECT_DATA_VIEWED,
            actor_kind=AuditEvent.ActorKind.STAFF,
            occurred_at__gte=since,
        )
        .values("actor_id")
        .annotate(
            people=Count("subject_id", distinct=True), views=Count("id"), last=Max("occurred_at")
        )
        .order_by("-people", "actor_id")[:limit]
    )
    names = _usernames(
        viewer, {event.actor_id for event in recent} | {row["actor_id"] for row in totals}
    )
    declarations = {d.label: d for d in registry.declarations()}
    rows = []
    for event in recent:
        declaration = declarations.get(str(event.data.get("model", "")))
        fields = [str(name) for name in event.data.get("fields", [])]
        if declaration is not None:
            records = declaration.label_human
            fields = [
                declaration.fields[name].label if name in declaration.fields else name
                for name in fields
            ]
        else:
            records = str(event.data.get("model", ""))
        purpose = PURPOSES.get(event.purpose)
        rows.append(
            StaffAccessRow(
                occurred_at=event.occurred_at,
                staff_username=names.get(event.actor_id, "(account removed)"),
                role=ROLE_LABELS.get(str(event.data.get("role", "")), "(no role)"),
                purpose=purpose.label if purpose else "(none)",
                records=records,
                fields=tuple(fields),
                count=int(event.data.get("records", 1)),
                subject_id=event.subject_id,
            )
        )
    summary = [
        StaffTotal(
            staff_username=names.get(row["actor_id"], "(account removed)"),
            people=row["people"],
            views=row["views"],
            last_at=row["last"],
        )
        for row in totals
    ]
    return rows, summary

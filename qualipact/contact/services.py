import logging
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from qualipact.comms.services import email_queue
from qualipact.contact.events import (
    inquiry_assigned_event,
    inquiry_status_changed_event,
    inquiry_submitted_event,
    inquiry_unassigned_event,
)
from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES, QueueRule, queue_of_kind
from qualipact.privacy.audit import Actor
from qualipact.privacy.deferred import deferred_submit
from qualipact.privacy.errors import ApplicationError, SubjectShredded
from qualipact.privacy.models import DataSubject
from qualipact.privacy.selectors import subject_find_by_email
from qualipact.privacy.services import subject_for_email
from qualipact.web.roles import ROLE_GROUPS, roles_of

logger = logging.getLogger(__name__)
DEFERRED_INQUIRY = "contact.inquiry"

# The purpose each kind of inquiry is handled for: its queue's (contact.queues).
PURPOSE_BY_KIND = {kind: queue_of_kind(kind).purpose for kind in Inquiry.Kind}


def _inquiry_check(fields: dict[str, str]) -> None:
    if fields["kind"] not in Inquiry.Kind.values:
        raise ApplicationError("Unknown inquiry kind", {"kind": "invalid"})
    required = ("name", "email", "subject_line", "message")
    if missing := sorted(field for field in required if not fields[field].strip()):
        raise ApplicationError("Required fields are empty", {"fields": missing})


def _account_subject(subject_id: uuid.UUID) -> DataSubject:
    """The signed-in sender's subject, locked as `subject_for_email` locks one, so an
    erasure running at the same moment finishes first. SubjectShredded when the person
    was erased meanwhile: nothing new is ever attached to them."""
    subject = DataSubject.objects.select_for_update().filter(pk=subject_id).first()
    if subject is None or subject.erased_at is not None:
        raise SubjectShredded(
            f"subject {subject_id} was erased before their message was stored",
            {"subject": "erased"},
        )
    return subject


@transaction.atomic
def inquiry_submit(
    *,
    kind: str,
    name: str,
    email: str,
    subject_line: str,
    message: str,
    phone: str = "",
    postal_address: str = "",
    account_subject_id: uuid.UUID | None = None,
) -> Inquiry:
    """Store an inquiry, encrypted, in the queue its kind goes to (privacy requests and
    complaints: the DPO's).

    Sent signed in (`account_subject_id`: the account's subject, `email` its address),
    it is stored for that subject and marked `sent_signed_in`: the person's own pages
    show it. Typed in by a visitor, it is stored for the subject known by this email (or
    a new one) and reachable only by its emailed links and by email: an address typed
    into a form proves nothing about who typed it.
    """
    _inquiry_check(
        {
            "kind": kind,
            "name": name,
            "email": email,
            "subject_line": subject_line,
            "message": message,
        }
    )
    if account_subject_id is not None:
        subject = _account_subject(account_subject_id)
    else:
        subject = subject_for_email(email=email, actor=Actor.system("contact_form"))
    inquiry = Inquiry(
        subject=subject,
        kind=kind,
        queue=queue_of_kind(kind).queue,
        name=name,
        email=email,
        phone=phone or None,
        postal_address=postal_address or None,
        subject_line=subject_line,
        message=message,
        sent_signed_in=account_subject_id is not None,
    )
    inquiry.save()
    inquiry_submitted_event(inquiry=inquiry, purpose=PURPOSE_BY_KIND[Inquiry.Kind(kind)])
    return inquiry


def inquiry_submit_later(
    *,
    kind: str,
    name: str,
    email: str,
    subject_line: str,
    message: str,
    phone: str = "",
    postal_address: str = "",
    country: str = "",
    account_subject_id: uuid.UUID | None = None,
) -> None:
    """The contact form's service: the inquiry is stored in the background.

    Registering a new subject takes time that a known one does not, so the form answers
    the same, in the same time, for every address (privacy.deferred). Signed in, the form
    passes the account's subject and address (`inquiry_submit`). Raises
    ApplicationError for a bad kind or empty required fields, before anything is kept.
    """
    fields = {
        "kind": kind,
        "name": name,
        "email": email,
        "subject_line": subject_line,
        "message": message,
        "phone": phone,
        "postal_address": postal_address,
        "country": country,
    }
    _inquiry_check(fields)
    payload = {**fields, "account_subject_id": str(account_subject_id or "")}
    deferred_submit(kind=DEFERRED_INQUIRY, payload=payload)


@transaction.atomic
def inquiry_refusal_notice(*, email: str, account_subject_id: uuid.UUID | None = None) -> None:
    """Tell the owner of a child's account why their message was not kept.

    The contact page answers as it always does, so it never reveals that an address
    belongs to a child's account; the explanation goes to that address only (signed in:
    the account's, for its subject `account_subject_id`).
    """
    if account_subject_id is not None:
        subject = DataSubject.objects.filter(pk=account_subject_id).first()
    else:
        subject = subject_find_by_email(email)
    if subject is None:
        return
    email_queue(
        subject=subject,
        to=email,
        subject_line="We could not keep your message",
        body=(
            "You wrote to us from the address of a child's account. We keep only a child's "
            "email address and username, so your message was not stored. Please ask your "
            "parent or guardian to write to us instead."
        ),
        purpose="customer_support",
    )


# -- staff: assignment and status ---------------------------------------------------------


def _locked_for(*, inquiry: Inquiry, by: Any) -> tuple[Inquiry, QueueRule]:
    """The inquiry's row, locked, and its queue, once `by` is known to work that queue."""
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    rule = QUEUES[locked.queue]
    if rule.role not in roles_of(by):
        raise ApplicationError(
            "Only staff who work this queue may change its messages", {"queue": "not_yours"}
        )
    return locked, rule


def _assignee_for(*, assignee_id: uuid.UUID, rule: QueueRule) -> Any:
    assignee = (
        get_user_model()
        .objects.filter(
            pk=assignee_id, is_active=True, is_staff=True, groups__name=ROLE_GROUPS[rule.role]
        )
        .first()
    )
    if assignee is None:
        raise ApplicationError(
            f"Messages of this queue go only to a {rule.role.label.lower()}",
            {"assignee": "not_in_role"},
        )
    return assignee


@transaction.atomic
def inquiry_assign(
    *,
    inquiry: Inquiry,
    by: Any,
    assignee_id: uuid.UUID | None,
    seen_assignee_id: uuid.UUID | None,
) -> Inquiry:
    """Give the message to the staff member `assignee_id` (`by` themself, or a colleague
    holding the queue's role), or with None leave it unassigned; audited (301, 302).

    `seen_assignee_id` is who handled it on the page `by` acted from: when someone else
    changed it meanwhile, nothing changes and ApplicationError says so, so two people never
    take the same message unknowingly. Also ApplicationError when `by` does not work the
    queue, the assignee does not hold its role, or nothing would change. Policy §4: a
    message is read by the people who handle it.
    """
    locked, rule = _locked_for(inquiry=inquiry, by=by)
    if locked.assigned_to_id != seen_assignee_id:
        raise ApplicationError(
            "Someone changed who handles this message meanwhile; see who does now",
            {"assignee": "changed"},
        )
    actor = Actor.staff(by.pk)
    if assignee_id is None:
        if locked.assigned_to_id is None:
            raise ApplicationError("This message is not assigned", {"assignee": "unchanged"})
        previous = locked.assigned_to_id
        locked.assigned_to = None
        locked.assigned_at = None
        locked.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        inquiry_unassigned_event(
            inquiry=locked, actor=actor, previous_id=previous, purpose=rule.purpose
        )
        return locked
    if locked.assigned_to_id == assignee_id:
        raise ApplicationError(
            "This message is already assigned to that person", {"assignee": "unchanged"}
        )
    locked.assigned_to = _assignee_for(assignee_id=assignee_id, rule=rule)
    locked.assigned_at = timezone.now()
    locked.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
    inquiry_assigned_event(
        inquiry=locked, actor=actor, assignee_id=assignee_id, purpose=rule.purpose
    )
    return locked


@transaction.atomic
def inquiry_status_set(*, inquiry: Inquiry, by: Any, status: str) -> Inquiry:
    """Mark the message answered or closed, or reopen it (`status`: an `Inquiry.Status`
    value); audited (303). The 24 months' retention counts from the closing
    (`closed_at`); reopening clears it.

    ApplicationError for an unknown status, one the message already has, or a `by` who
    does not work the queue.
    """
    if status not in Inquiry.Status.values:
        raise ApplicationError("Unknown status", {"status": "invalid"})
    locked, rule = _locked_for(inquiry=inquiry, by=by)
    previous = locked.status
    if previous == status:
        raise ApplicationError(
            f"This message is already marked {Inquiry.Status(status).label.lower()}",
            {"status": "unchanged"},
        )
    locked.status = status
    locked.closed_at = timezone.now() if status == Inquiry.Status.CLOSED else None
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    inquiry_status_changed_event(
        inquiry=locked, actor=Actor.staff(by.pk), previous=previous, purpose=rule.purpose
    )
    return locked

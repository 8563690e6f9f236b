"""Writes on data subjects: creation, identifiers and restriction.

Erasure and key shredding live in `qualipact.privacy.erasure` (re-exported here).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode, audit_log
from qualipact.privacy.erasure import (
    ErasureReceipt,
    rows_erase,
    rows_without_holds,
    subject_erase,
    subject_shred,
)
from qualipact.privacy.models import DataSubject, SubjectIdentifier
from qualipact.privacy.selectors import subject_find_by_email

__all__ = [
    "ErasureReceipt",
    "rows_erase",
    "rows_without_holds",
    "subject_create",
    "subject_erase",
    "subject_for_email",
    "subject_restrict",
    "subject_restriction_lift",
    "subject_shred",
]


@transaction.atomic
def subject_create(*, actor: Actor) -> DataSubject:
    subject = DataSubject.objects.create()
    audit_log(code=EventCode.SUBJECT_CREATED, actor=actor, subject_id=subject.pk)
    return subject


@transaction.atomic
def subject_for_email(*, email: str, actor: Actor) -> DataSubject:
    """The subject known by this email (blind-index lookup), created if nobody is.

    The subject row is locked, so an erasure running at the same moment finishes
    first and nothing new is ever attached to an erased person.
    """
    existing = subject_find_by_email(email)
    if existing is not None:
        locked = DataSubject.objects.select_for_update().get(pk=existing.pk)
        if locked.erased_at is None:
            return locked
    index = vault.blind_index("email", email)
    try:
        with transaction.atomic():
            subject = subject_create(actor=actor)
            SubjectIdentifier.objects.create(
                subject=subject, kind=SubjectIdentifier.Kind.EMAIL, value_index=index
            )
            return subject
    except IntegrityError:
        # A concurrent request registered the same address first.
        return SubjectIdentifier.objects.get(
            kind=SubjectIdentifier.Kind.EMAIL, value_index=index
        ).subject


@transaction.atomic
def subject_restrict(*, subject: DataSubject, actor: Actor, reason: str) -> DataSubject:
    if subject.restricted_at is None:
        subject.restricted_at = timezone.now()
        subject.save(update_fields=["restricted_at", "updated_at"])
    audit_log(
        code=EventCode.SUBJECT_RESTRICTED,
        actor=actor,
        subject_id=subject.pk,
        data={"reason": reason},
    )
    return subject


@transaction.atomic
def subject_restriction_lift(*, subject: DataSubject, actor: Actor, reason: str) -> DataSubject:
    subject.restricted_at = None
    subject.save(update_fields=["restricted_at", "updated_at"])
    audit_log(
        code=EventCode.SUBJECT_RESTRICTION_LIFTED,
        actor=actor,
        subject_id=subject.pk,
        data={"reason": reason},
    )
    return subject

"""Legal holds: placed and lifted by staff, audited; erasure keeps what they cover."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.registry import registry
from qualipact.retention.events import legal_hold_lifted_event, legal_hold_placed_event
from qualipact.retention.models import LegalHold


@transaction.atomic
def legal_hold_place(
    *,
    subject: DataSubject,
    basis: str,
    actor: Actor,
    models_held: list[str] | None = None,
    note: str = "",
) -> LegalHold:
    if basis not in LegalHold.Basis.values:
        raise ApplicationError("Unknown basis for a legal hold", {"basis": "unknown"})
    known = {d.label for d in registry.subject_declarations()}
    if unknown := sorted(set(models_held or []) - known):
        raise ApplicationError("A held model is not declared personal data", {"models": unknown})
    hold = LegalHold.objects.create(
        subject=subject,
        basis=basis,
        models_held=sorted(models_held or []),
        note=note or None,
        placed_by=actor.id or actor.kind,
    )
    legal_hold_placed_event(hold=hold, actor=actor)
    return hold


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, actor: Actor) -> LegalHold:
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is None:
        hold.lifted_at = timezone.now()
        hold.save(update_fields=["lifted_at", "updated_at"])
        legal_hold_lifted_event(hold=hold, actor=actor)
    return hold


def legal_holds_active(subject: DataSubject) -> list[LegalHold]:
    return list(LegalHold.objects.filter(subject=subject, lifted_at__isnull=True))


class LegalHoldSource:
    """The erasure primitive's view of legal holds (registered by RetentionConfig.ready)."""

    def kept(self, subject_id: UUID) -> dict[str, str]:
        holds = LegalHold.objects.filter(subject_id=subject_id, lifted_at__isnull=True)
        kept: dict[str, str] = {}
        for declaration in registry.subject_declarations():
            for hold in holds:
                if hold.covers(declaration.label):
                    kept[declaration.label] = hold.get_basis_display()
                    break
        return kept

    def held_subjects(self, label: str) -> list[UUID]:
        # Active holds are few; models_held is a JSON list, which SQLite cannot search.
        return [
            hold.subject_id
            for hold in LegalHold.objects.filter(lifted_at__isnull=True).only(
                "subject_id", "models_held"
            )
            if hold.covers(label)
        ]

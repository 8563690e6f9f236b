"""What may be done with a child's data (privacy policy section 9).

Two guards, registered at start-up by AccountsConfig.ready():

- a purpose-enforcement rule: no consent-based purpose (marketing, personalised offers
  and ads, location features, partner sharing) for a child, whatever the consent
  ledger says, in both the per-person and the set-based form;
- the registry's child rule: a row of a declared model may not hold, for a child, a
  field that is not declared `for_children`, unless the declaration's
  `for_children_when(row)` admits the row. Checked on every save (pre_save) of a
  declared model keyed by `subject`; a refusal raises ProcessingRefused naming only the
  model, the field names and the subject id.

A child is an account whose `child_until` lies in the future. For an adult the save
check costs one indexed query (User.subject is unique), and none at all for models
whose fields are all allowed for children.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.utils import timezone

from qualipact.accounts.models import User
from qualipact.privacy import enforcement
from qualipact.privacy.enforcement import Exclusion
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import LegalBasis, Purpose
from qualipact.privacy.registry import ModelDeclaration, registry

RULE_NAME = "children"


def subject_is_child(subject_id: Any) -> bool:
    return User.objects.filter(subject_id=subject_id, child_until__gt=timezone.localdate()).exists()


class ChildRule:
    """No consent-based purpose for a child: a parent's consent covers the account only."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        return "child" if subject_is_child(subject.pk) else None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        if purpose.legal_basis is not LegalBasis.CONSENT:
            return None
        return Q(account__child_until__gt=timezone.localdate())


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == b""


def _refused_fields(declaration: ModelDeclaration, instance: models.Model) -> list[str]:
    opts = declaration.model._meta
    refused = []
    for spec in declaration.fields.values():
        if spec.for_children:
            continue
        field = opts.get_field(spec.name)
        attname = field.attname if isinstance(field, models.Field) else spec.name
        if not _empty(getattr(instance, attname)):
            refused.append(spec.name)
    return refused


def child_fields_check(*, model: type[models.Model], instance: models.Model) -> None:
    """The registry's child rule for one row about to be written.

    `instance` is a row of `model`. When the model is declared with a `subject` key, the
    row holds a field not declared `for_children` and its subject is a child, raises
    `ProcessingRefused` (extra: model label, field names, reasons ["child"]) naming only
    the model, the fields and the subject id (COPPA 312.7, GDPR Art 8, policy section 9).
    Models not declared, or keyed otherwise, pass.
    """
    declaration = registry.get(model)
    if declaration is None or declaration.subject_field != "subject":
        return
    # Rows a declaration admits for a child by their content (comms' service emails).
    allowed = declaration.for_children_when
    if allowed is not None and allowed(instance):
        return
    refused = _refused_fields(declaration, instance)
    if not refused:
        return
    subject_id = getattr(instance, "subject_id", None)
    if subject_id is None or not subject_is_child(subject_id):
        return
    raise ProcessingRefused(
        f"{declaration.label}: {', '.join(sorted(refused))} may not be stored for a child "
        f"(subject {subject_id})",
        {"model": declaration.label, "fields": sorted(refused), "reasons": ["child"]},
    )


def refuse_child_fields(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """pre_save hook: `child_fields_check` on every save of any model.

    Kept as a signal on purpose, as the last-resort guard: every app writes rows keyed by
    `subject` through its own services, and one service that forgot the call would store
    a child's data; the signal sees every `save()`, whichever app makes it.
    """
    if kwargs.get("raw"):
        return  # fixtures load rows as they are
    child_fields_check(model=sender, instance=instance)


def register() -> None:
    enforcement.rule_register(RULE_NAME, ChildRule())
    pre_save.connect(refuse_child_fields, dispatch_uid="qualipact.accounts.child_rule")

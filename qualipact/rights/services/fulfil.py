"""Carrying out verified requests.

Access, portability, erasure without holds, restriction, objection and consent
withdrawal complete on their own; rectification waits for a DPO (`rectification_apply`
or a refusal). Each handler is idempotent: a request already completed is left alone,
and an erasure whose key shred a crash interrupted is finished on the next run.
"""

from __future__ import annotations

import logging
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import MaxLengthValidator
from django.db import DataError, IntegrityError, models, transaction
from django.utils import timezone

from qualipact.consent.models import Channel
from qualipact.consent.services import consent_withdraw, objection_record
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError, Conflict, InvalidInput
from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.privacy.registry import Category, ModelDeclaration, ResolvedField, Source, registry
from qualipact.privacy.services import subject_erase, subject_restrict, subject_shred
from qualipact.privacy.tokens import token_hash
from qualipact.rights import events
from qualipact.rights.models import DataRequest, ExportFile
from qualipact.rights.services import requests
from qualipact.rights.services.exports import ExportKind, export_build, export_open, export_seal
from qualipact.rights.transfer import TransferError, transfer_post
from qualipact.web.links import site_url

logger = logging.getLogger(__name__)
ACTOR = Actor.system("rights")
PURPOSE = requests.PURPOSE


def request_fulfil(*, request_id: Any) -> DataRequest:
    """Carry out a verified request. A failure never escapes silently: the request is
    marked failed (or left for another automatic try when the error is transient and
    tries remain; then the error is raised again so the task retries)."""
    request = DataRequest.objects.select_related("subject").get(pk=request_id)
    if request.kind == DataRequest.Kind.ERASURE and request.status == DataRequest.Status.COMPLETED:
        _shred_if_left(request)
        return request
    if request.status != DataRequest.Status.IN_PROGRESS:
        return request
    handler = _HANDLERS.get(request.kind)
    if handler is None:
        return request  # rectification: a DPO decides
    try:
        return handler(request)
    except Exception as exc:
        # Only the error's type: its text could quote the person's data.
        logger.warning("request %s failed: %s", request.pk, requests.failure_code_of(exc))
        failed = requests.request_fail(request_id=request.pk, exc=exc)
        if failed.status == DataRequest.Status.IN_PROGRESS:
            raise  # transient: the task retries, or the reconciler
        return failed


# -- access and portability ------------------------------------------------------------


def _export(request: DataRequest) -> DataRequest:
    kind: ExportKind = "portability" if request.kind == DataRequest.Kind.PORTABILITY else "access"
    endpoint = requests.details_of(request).get("endpoint")
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != DataRequest.Status.IN_PROGRESS:
            return request
        archive = export_build(subject=request.subject, kind=kind, actor=ACTOR)
        token = secrets.token_urlsafe(32)
        export = ExportFile.objects.create(
            id=archive.export_id,  # the id sealed into the file
            request=request,
            subject=request.subject,
            sealed=export_seal(subject=request.subject, archive=archive),
            filename=archive.filename,
            sha256=archive.sha256,
            token_hash=token_hash(token),
            expires_at=timezone.now() + timedelta(days=settings.RIGHTS_EXPORT_DAYS),
        )
        events.export_built_event(request=request, export=export, kind=kind, actor=ACTOR)
        outcome: dict[str, Any] = {"export_id": str(export.pk), "files": archive.manifest}
        if endpoint:
            payload = zipfile.ZipFile(BytesIO(archive.zip_bytes)).read("data.json")
            try:
                status = transfer_post(endpoint=endpoint, payload=payload)
            except TransferError as exc:
                outcome["transfer"] = {"status": "failed", "reason": exc.extra.get("endpoint")}
            else:
                outcome["transfer"] = {"status": "sent", "http_status": status}
                events.export_transferred_event(request=request, http_status=status, actor=ACTOR)
        link = site_url("rights:download", token)
        note = f"Download your data here, once, within {settings.RIGHTS_EXPORT_DAYS} days:\n{link}"
        if outcome.get("transfer", {}).get("status") == "sent":
            note += "\nWe also sent it to the provider you named."
        elif endpoint:
            note += (
                "\nWe could not send it to the provider you named; the file is yours to pass on."
            )
        return requests.request_complete(request=request, actor=None, outcome=outcome, note=note)


@transaction.atomic
def export_download(*, token: str) -> tuple[ExportFile, bytes]:
    """The sealed export for a link: opened once, then emptied. Audited."""
    export = ExportFile.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    if (
        export is None
        or export.downloaded_at is not None
        or export.sealed is None
        or export.expires_at < timezone.now()
    ):
        raise ApplicationError(
            "This download link is not valid: it works once, for "
            f"{settings.RIGHTS_EXPORT_DAYS} days.",
            {"token": "invalid"},
        )
    subject = DataSubject.objects.get(pk=export.subject_id)
    content = export_open(subject=subject, sealed=bytes(export.sealed), export_id=export.pk)
    export.downloaded_at = timezone.now()
    export.sealed = None
    export.save(update_fields=["downloaded_at", "sealed", "updated_at"])
    events.export_downloaded_event(export=export)
    return export, content


# -- erasure ---------------------------------------------------------------------------


def kept_categories(kept: dict[str, str]) -> dict[str, str]:
    """Data category -> why it is kept, over the fields of the models a hold keeps."""
    by_label = {d.label: d for d in registry.subject_declarations()}
    categories: dict[str, set[str]] = {}
    for label, why in kept.items():
        for spec in by_label[label].fields.values():
            categories.setdefault(str(spec.category), set()).add(why)
    return {category: "; ".join(sorted(whys)) for category, whys in sorted(categories.items())}


def _erase(request: DataRequest) -> DataRequest:
    address = requests.contact_address(request)  # read before the key is gone
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != DataRequest.Status.IN_PROGRESS:
            return request
        # The receipt goes out after the commit and before the key shred that
        # subject_erase schedules: a worker that dies in the shred has sent it already (a
        # re-run only finishes the shred; the address is gone with the key by then).
        receipt_body: list[str] = []
        if address:
            transaction.on_commit(
                lambda: _send_receipt(address, receipt_body[0]) if receipt_body else None
            )
        # The request log itself stays (cleared of what the person wrote), as the law asks.
        # subject_erase keeps what an active legal hold covers, with the hold's reason.
        receipt = subject_erase(subject=request.subject, actor=ACTOR)
        outcome = {
            # What the person had: a kind of data they never gave us is not "erased".
            "erased": sorted(label for label, done in receipt.models.items() if done["rows"]),
            "kept": receipt.kept,
            "kept_categories": kept_categories(receipt.kept),
            "kept_by_law": _kept_by_law(),
            "complete": receipt.complete,
        }
        # The person's mail is erased with them: the receipt goes out directly, below.
        # Only these columns: erasure has just cleared what the person wrote in the row.
        requests._status(request, DataRequest.Status.COMPLETED, None)
        request.completed_at = timezone.now()
        request.outcome = outcome
        request.save(update_fields=["status", "completed_at", "outcome", "updated_at"])
        events.request_completed_event(request=request, actor=ACTOR)
        receipt_body.append(erasure_receipt_text(request))
    return request


def _kept_by_law() -> dict[str, str]:
    """Declarations that erasure clears but keeps as rows, and why (their legal basis)."""
    kept = {}
    for declaration in registry.subject_declarations():
        if declaration.deletes_row:
            continue
        spec = next(iter(declaration.fields.values()))
        kept[declaration.label] = (
            f"{PURPOSES[spec.purposes[0]].label}; kept {spec.retention.describe()}, "
            "without what you wrote"
        )
    return kept


def model_name(label: str) -> str:
    """A declared model's name in words ("Inquiries"), for what a person reads; never
    the internal label ("contact.Inquiry"). The registry's name first (`label_plural`),
    then the model's verbose name."""
    declaration = next((d for d in registry.declarations() if d.label == label), None)
    if declaration is not None:
        return declaration.label_human_plural.capitalize()
    try:
        return str(apps.get_model(label)._meta.verbose_name_plural).capitalize()
    except (LookupError, ValueError):
        return "Other records"


def erasure_receipt_text(request: DataRequest) -> str:
    """The receipt a person is emailed: what was erased and what is kept, in words."""
    outcome = request.outcome
    lines = ["We erased your data. What was erased:"]
    lines += [f"  - {model_name(label)}" for label in outcome.get("erased", [])]
    if outcome.get("kept"):
        lines.append("What we must keep for now, and why, by kind of data:")
        lines += [
            f"  - {category}: {why}" for category, why in outcome.get("kept_categories", {}).items()
        ]
        lines.append("In these records:")
        lines += [f"  - {model_name(label)}: {why}" for label, why in outcome["kept"].items()]
        lines.append("We erase it as soon as the reason ends.")
    if outcome.get("kept_by_law"):
        lines.append("Records the law asks us to keep, without your data:")
        lines += [
            f"  - {model_name(label)}: {why}" for label, why in outcome["kept_by_law"].items()
        ]
    lines.append(f"\nReference: {request.pk}")
    return "\n".join(lines)


def _send_receipt(address: str, body: str) -> None:
    try:
        send_mail("Your data was erased: your receipt", body, None, [address])
    except Exception:
        logger.warning("erasure receipt could not be sent")


def _shred_if_left(request: DataRequest) -> None:
    """Finish an erasure whose key shred a crash interrupted (idempotent)."""
    if request.outcome.get("complete") and not vault.is_shredded(request.subject_id):
        subject_shred(subject=request.subject, actor=ACTOR)


def erasure_resume(*, subject: DataSubject, actor: Actor) -> list[DataRequest]:
    """After a legal hold is lifted: finish the erasures it held back, and say so."""
    resumed = []
    pending = DataRequest.objects.filter(
        subject=subject,
        kind=DataRequest.Kind.ERASURE,
        status=DataRequest.Status.COMPLETED,
        outcome__complete=False,
    )
    for request in pending:
        with transaction.atomic():
            receipt = subject_erase(subject=subject, actor=actor)
            request.outcome = {
                **request.outcome,
                "erased": sorted(
                    set(request.outcome.get("erased", []))
                    | {label for label, done in receipt.models.items() if done["rows"]}
                ),
                "kept": receipt.kept,
                "kept_categories": kept_categories(receipt.kept),
                "complete": receipt.complete,
            }
            request.save(update_fields=["outcome", "updated_at"])
        resumed.append(request)
    return resumed


# -- restriction, objection, withdrawal ------------------------------------------------


def _restrict(request: DataRequest) -> DataRequest:
    with transaction.atomic():
        subject_restrict(subject=request.subject, actor=ACTOR, reason="rights_request")
        return requests.request_complete(
            request=request,
            actor=None,
            outcome={"restricted": True},
            note=(
                "From now on we only store your data (and use it for legal claims). "
                "We will tell you before the restriction is lifted."
            ),
        )


def _object(request: DataRequest) -> DataRequest:
    purpose = requests.details_of(request)["purpose"]
    actor = Actor.subject(request.subject_id)
    with transaction.atomic():
        if PURPOSES[purpose].legal_basis is LegalBasis.CONSENT:
            # Direct marketing: always, at once (Art 21(3)).
            consent_withdraw(
                subject=request.subject, purpose=purpose, channel=Channel.RIGHTS_REQUEST,
                actor=actor,
            )  # fmt: skip
        else:
            objection_record(
                subject=request.subject, purpose=purpose, channel=Channel.RIGHTS_REQUEST,
                actor=actor,
            )  # fmt: skip
        return requests.request_complete(
            request=request,
            actor=None,
            outcome={"objected": purpose},
            note=f"We stopped using your data for: {PURPOSES[purpose].label}.",
        )


def _withdraw(request: DataRequest) -> DataRequest:
    purposes = requests.details_of(request)["purposes"]
    actor = Actor.subject(request.subject_id)
    with transaction.atomic():
        for purpose in purposes:
            consent_withdraw(
                subject=request.subject, purpose=purpose, channel=Channel.RIGHTS_REQUEST,
                actor=actor,
            )  # fmt: skip
        return requests.request_complete(
            request=request,
            actor=None,
            outcome={"withdrawn": purposes},
            note="Your consent is withdrawn for: " + ", ".join(PURPOSES[p].label for p in purposes),
        )


# -- rectification (a DPO decides) -----------------------------------------------------


@dataclass(frozen=True)
class RectifiableField:
    """A field a correction may write to, as the registry declares it (GDPR Art 16)."""

    declaration: ModelDeclaration
    spec: ResolvedField

    @property
    def key(self) -> str:
        """The internal name, "accounts.Preferences.language": for code and audit data."""
        return f"{self.declaration.label}.{self.spec.name}"

    @property
    def model_field(self) -> models.Field:
        return self.declaration.model._meta.get_field(self.spec.name)  # type: ignore[return-value]

    @property
    def label_human(self) -> str:
        """What a person reads: "language (account preferences)"."""
        return f"{self.spec.label} ({self.declaration.label_human})"

    def form_field(self) -> forms.Field:
        """The field's own form field (choices, lengths, types), which checks a new value
        for the DPO's page and the API alike. Encrypted text has none of its own, so a
        typed one: an email address is checked as one, a message gets a text area."""
        model_field = self.model_field
        label = f"New {self.spec.label}"
        if isinstance(model_field, EncryptedTextField):
            required = not model_field.blank
            if self.spec.category is Category.CONTACT and (
                "email" in self.spec.name or self.spec.name == "to"
            ):
                return forms.EmailField(label=label, max_length=254, required=required)
            widget = (
                forms.Textarea(attrs={"rows": 3})
                if self.spec.category is Category.COMMUNICATION
                else None
            )
            return forms.CharField(
                label=label, max_length=requests.TEXT_MAX, required=required, widget=widget
            )
        field = model_field.formfield()
        if field is None:  # pragma: no cover - rectifiable fields are editable
            raise ApplicationError("This field cannot be corrected", {"field": "no_form_field"})
        field.label = label
        if isinstance(field, forms.CharField) and (
            field.max_length is None or field.max_length > requests.TEXT_MAX
        ):
            field.max_length = requests.TEXT_MAX
            field.validators.append(MaxLengthValidator(requests.TEXT_MAX))
        return field


def rectifiable_fields() -> list[RectifiableField]:
    """Every declared field a correction may write to, in registry order: fields of the
    person's own rows (not reached through another table), given or observed rather than
    computed, never a secret or a lookup code, a value rather than a link to another row,
    editable, and not in a record of what happened (the consent ledger). Nor an address the
    person is found by (the source of a blind index, such as the sign-in email): changing
    it goes through the flow that proves the new address, never a DPO's edit. Nor what the
    system observed (sign-in times, used one-time codes: `Source.AUTOMATIC`), which records
    what happened rather than facts about the person, nor the log of the rights exercised
    itself (this app's requests and appeals), kept as it happened (Art 5(2))."""
    fields = []
    for declaration in registry.subject_declarations():
        if declaration.subject_field != "subject" or declaration.append_only:
            continue
        if declaration.model._meta.app_label == "rights":
            continue
        lookups = {
            f.source
            for f in declaration.model._meta.concrete_fields
            if isinstance(f, BlindIndexField)
        }
        for spec in declaration.fields.values():
            if spec.blind_index or spec.secret:
                continue
            if spec.source in (Source.DERIVED, Source.AUTOMATIC):
                continue
            if spec.name in lookups:
                continue
            model_field = declaration.model._meta.get_field(spec.name)
            if model_field.is_relation or not model_field.concrete:
                continue
            if not getattr(model_field, "editable", False):
                continue
            fields.append(RectifiableField(declaration, spec))
    return fields


def rectifiable_field(key: str) -> RectifiableField | None:
    """The rectifiable field named "app.Model.field", or None."""
    return next((f for f in rectifiable_fields() if f.key == key), None)


def corrected_labels(keys: list[str]) -> list[str]:
    """Corrected fields ("accounts.Preferences.language", as the outcome stores them) in the
    words a person reads ("language (account preferences)"), from the registry."""
    by_key = {f.key: f.label_human for f in rectifiable_fields()}
    return [by_key.get(key, "other data we hold about you") for key in keys]


def corrected_note(keys: list[str]) -> str:
    """The sentence a person is told when a correction is done."""
    return "We corrected your data: " + ", ".join(corrected_labels(keys)) + "."


def details_in_words(details: dict[str, Any]) -> list[tuple[str, str]]:
    """What the person asked, as [(what, their words)], labelled in words (purpose and
    field labels, not codes): for the DPO's page and the evidence package."""
    asked: list[tuple[str, str]] = []
    for key, value in details.items():
        if key == "correction":
            asked.append(("In their words", str(value)))
        elif key == "purpose":
            purpose = PURPOSES.get(str(value))
            asked.append(("The use they object to", purpose.label if purpose else str(value)))
        elif key == "purposes":
            labels = [PURPOSES[p].label if p in PURPOSES else str(p) for p in value]
            asked.append(("The consents they withdraw", ", ".join(labels)))
        elif key == "endpoint":
            asked.append(("Send the copy directly to", str(value)))
        elif key == "email":
            asked.append(("The address that asked", str(value)))
        elif key == "changes":
            for change in value:
                target = rectifiable_field(f"{change.get('model')}.{change.get('field')}")
                where = target.label_human if target else "a field we cannot correct"
                asked.append((f"They propose for {where}", str(change.get("value", ""))))
        else:
            asked.append(("Also asked", str(value)))
    return asked


def _rectifiable(label: str, name: str) -> RectifiableField:
    declaration = next((d for d in registry.subject_declarations() if d.label == label), None)
    if declaration is not None and declaration.append_only and name in declaration.fields:
        raise ApplicationError(
            f"{label} is a record of what happened",
            {"field": "append_only"},
            public="This is a record of what happened and is not edited; "
            "record the change itself instead (a consent is withdrawn or given anew)",
        )
    if declaration is not None and name in declaration.fields:
        model_field = declaration.model._meta.get_field(name)
        if model_field.is_relation or not model_field.concrete:
            raise ApplicationError(
                "This field cannot be corrected",
                {"field": "relation"},
                public="This field cannot be corrected by a value",
            )
    field = rectifiable_field(f"{label}.{name}")
    if field is None:
        raise ApplicationError("This field cannot be corrected", {"field": f"{label}.{name}"})
    return field


def _corrected_row(request: DataRequest, change: dict[str, Any]) -> tuple[Any, str, str]:
    """The record with the correction set and validated by the model; nothing saved."""
    target = _rectifiable(str(change.get("model", "")), str(change.get("field", "")))
    declaration = target.declaration
    model: type[models.Model] = declaration.model
    name = target.spec.name
    field = target.model_field
    try:
        record = model._meta.pk.to_python(change.get("record"))
    except ValidationError:
        raise InvalidInput(
            "The record id is not valid", {"record": "invalid"}, public="The record id is not valid"
        ) from None
    row = model._base_manager.filter(pk=record, subject=request.subject).first()
    if row is None:
        raise ApplicationError(
            "That record is not this person's",
            {"record": "not_found"},
            public="That record is not this person's",
        )
    others = [f.name for f in model._meta.concrete_fields if f.name != name]
    try:
        value = target.form_field().clean(change.get("value", ""))
        setattr(row, field.attname, field.to_python(value))
        row.full_clean(exclude=others)
    except ValidationError as error:
        problems = sorted(
            {e.code or "invalid" for errors in error.error_dict.values() for e in errors}
            if hasattr(error, "error_dict")
            else {e.code or "invalid" for e in error.error_list}
        )
        if "unique" in problems:
            raise Conflict(
                f"{declaration.label}.{name}: the new value is taken",
                {"value": "taken"},
                public="This value is already in use",
            ) from None
        raise InvalidInput(
            f"{declaration.label}.{name}: {problems}",
            {"value": problems},
            public="This value is not valid for the field",
        ) from None
    return row, declaration.label, name


@transaction.atomic
def rectification_apply(
    *, request: DataRequest, changes: list[dict[str, Any]], actor: Actor, complete: bool = True
) -> DataRequest:
    """Apply a DPO-approved correction, field by field, and tell recipients (Art 19).

    `changes`: [{"model": "app.Model", "record": pk, "field": name, "value": new value}],
    each field one of `rectifiable_fields()` on a row of the request's person. Every change
    is validated before anything is written; ApplicationError (InvalidInput, Conflict)
    leaves everything as it was. The person is told, in the registry's words, what was
    corrected (Art 12(3), Art 16); the outcome keeps the internal names for the record.
    With `complete=False` the request stays open for more corrections (a person who
    asked for several); the one that completes it tells the person of them all.
    """
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind != DataRequest.Kind.RECTIFICATION or not request.is_open:
        raise ApplicationError("Not an open rectification request", {"request": "not_open"})
    if not changes:
        raise ApplicationError("Name at least one correction", {"changes": "empty"})
    # Every change is checked against the model (types, lengths, validators, unique
    # values) before anything is written, so a bad one leaves nothing half-done.
    rows = [_corrected_row(request, change) for change in changes]
    changed: list[str] = []
    for row, label, name in rows:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise Conflict(
                f"{label}.{name}: the new value is taken",
                {"value": "taken"},
                public="This value is already in use",
            ) from None
        except DataError:
            raise InvalidInput(
                f"{label}.{name}: the database refused the value",
                {"value": "invalid"},
                public="This value is not valid for the field",
            ) from None
        changed.append(f"{label}.{name}")
    events.rectified_event(request=request, actor=actor, fields=changed)
    # Nobody outside received this data yet (there is no sharing with recipients); the
    # notification is recorded all the same, with the list it went to.
    recipients: list[str] = []
    events.recipients_notified_event(request=request, actor=actor, recipients=recipients)
    earlier = [str(key) for key in (request.outcome or {}).get("corrected", [])]
    corrected = list(dict.fromkeys([*earlier, *changed]))
    if not complete:
        request.outcome = {**(request.outcome or {}), "corrected": corrected}
        request.save(update_fields=["outcome", "updated_at"])
        return request
    return requests.request_complete(
        request=request,
        actor=actor,
        outcome={"corrected": corrected, "recipients_notified": recipients},
        note=corrected_note(corrected),
    )


_HANDLERS: dict[str, Callable[[DataRequest], DataRequest]] = {
    DataRequest.Kind.ACCESS: _export,
    DataRequest.Kind.PORTABILITY: _export,
    DataRequest.Kind.ERASURE: _erase,
    DataRequest.Kind.RESTRICTION: _restrict,
    DataRequest.Kind.OBJECTION: _object,
    DataRequest.Kind.CONSENT_WITHDRAWAL: _withdraw,
}

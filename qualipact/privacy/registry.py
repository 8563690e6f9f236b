"""The personal-data registry: each app declares its personal data once, in its `privacy.py`.

Access exports, erasure, retention, consent checks and the record of processing are
all derived from these declarations. A declaration that names a missing field, an
unknown purpose or an inconsistent setting stops start-up with a clear message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q

from qualipact.privacy.purposes import PURPOSES, LegalBasis


class Category(StrEnum):
    IDENTITY = "identity"  # name, username
    CONTACT = "contact"  # email, phone, postal address
    ACCOUNT = "account"  # credentials, preferences
    COMMUNICATION = "communication"  # what a person wrote to us
    EMPLOYMENT = "employment"  # résumé, work history
    TECHNICAL = "technical"  # IP address, device, browser
    LOCATION = "location"
    IDENTIFIER = "identifier"  # pseudonymous lookup keys (blind indexes)
    CONSENT = "consent"  # consent given or withdrawn, objections


class Source(StrEnum):
    PROVIDED = "provided"  # the person gave it to us
    AUTOMATIC = "automatic"  # collected while they used the service
    THIRD_PARTY = "third_party"  # received from another party (e.g. social login)
    DERIVED = "derived"  # computed by us from other data


class Erasure(StrEnum):
    DELETE_ROW = "delete_row"
    NULL = "null"
    ANONYMISE = "anonymise"


# (lookup, value) pairs, or a function returning a Q built when the sweep runs (for a
# condition on other rows: "no consent of this purpose is in force").
Lookups = tuple[tuple[str, Any], ...] | Callable[[], Q]


def lookups_q(lookups: Lookups) -> Q:
    """The Q a rule's `only` or `unless` stands for."""
    return lookups() if callable(lookups) else Q(*lookups)


@dataclass(frozen=True)
class Retention:
    """How long rows are kept, and what happens then; enforced by `retention.engine`.

    Rows are kept for `period` after the moment in `after` (a date field of the model,
    or a lookup path such as "subject__account__last_login" for data kept as long as
    something else), then `then` applies: the row is deleted, or the fields this rule
    governs are cleared or anonymised. `or_after` is the moment to count from when
    `after` is empty (an account never signed in to counts from its creation).

    - `only` / `unless`: (lookup, value) pairs the rule is limited to / never applies to
      (a request still open is never swept);
    - `ends_with_consent`: a purpose resting on consent; rows of a person who holds no
      current grant for it go at once (GDPR Art 17(1)(b)); with `period` None that is
      the only limit (kept while the person consents);
    - `erases_subject`: expiry erases the whole person through the erasure primitive
      (an account unused for years, a child's account whose parent never answered);
    - `event`: how a person reads `after` ("your last sign-in").

    Legal holds keep what they cover whatever the rule says (GDPR Art 17(3)(b), (e)).
    """

    after: str
    period: timedelta | None
    then: Erasure = Erasure.DELETE_ROW
    or_after: str | None = None
    only: Lookups = ()
    unless: Lookups = ()
    ends_with_consent: str | None = None
    erases_subject: bool = False
    event: str = ""

    def cutoff(self, now: datetime) -> datetime:
        """Rows whose `after` is before this moment are past the period. Raises ValueError
        for a rule kept only while the person consents (no period)."""
        if self.period is None:
            raise ValueError("this retention has no period: it ends with consent")
        return now - self.period

    def describe(self) -> str:
        action = {
            Erasure.DELETE_ROW: "deleted",
            Erasure.NULL: "cleared",
            Erasure.ANONYMISE: "anonymised",
        }[self.then]
        if self.erases_subject:
            action = "erased with everything else we hold about you"
        event = self.event or self.after.rsplit("__", 1)[-1].replace("_", " ")
        if self.period is None:
            return f"kept while you consent to it, then {action}"
        days = self.period.days
        when = f"{days} day{'' if days == 1 else 's'} after {event}" if days else f"once {event}"
        if self.ends_with_consent:
            when += ", or as soon as you withdraw your consent"
        return f"{when}, then {action}"


@dataclass(frozen=True)
class PersonalField:
    """One field's declaration. Unset attributes take the model declaration's defaults."""

    category: Category
    purposes: tuple[str, ...] | None = None
    legal_basis: LegalBasis | None = None
    source: Source | None = None
    encrypted: bool = False
    blind_index: bool = False
    portable: bool | None = None
    erasure: Erasure | None = None
    # For Erasure.ANONYMISE: the replacement value, or a function of the old value.
    anonymise_to: Any = None
    retention: Retention | None = None
    # May be stored for a child below the age of digital consent (policy section 9: email
    # and username only). Every other field is refused for a child by accounts.child_rule.
    for_children: bool | None = None
    # A secret: a credential or anything that would let its holder act as the person or
    # find them (password hash, session key, MFA seed, recovery codes, a token or its
    # hash, a blind index, a sealed copy of their data). Listed in exports and on staff
    # pages, its value is never displayed, exported, returned or logged: `subject_collect`
    # hands out no value for it, only that one is stored (see `secret_reason`).
    secret: bool = False
    # Text that can carry a credential inside it (an email with a one-time link or code):
    # every output shows the value only through this function, which masks them
    # (`privacy.masking.credentials_masked`). The stored value is kept as it is.
    mask: Callable[[Any], Any] | None = None
    # What a person reads for this field ("email lookup code"); defaults to the model
    # field's verbose_name. Never an attribute name: pages and exports show it.
    label: str | None = None


@dataclass(frozen=True)
class ResolvedField:
    """A field's declaration with every default filled in."""

    name: str
    category: Category
    purposes: tuple[str, ...]
    legal_basis: LegalBasis
    source: Source
    encrypted: bool
    blind_index: bool
    portable: bool
    erasure: Erasure
    anonymise_to: Any
    retention: Retention
    for_children: bool
    secret: bool = False
    mask: Callable[[Any], Any] | None = None
    label: str = ""

    @property
    def secret_reason(self) -> str:
        """Why a secret's value is not shown, in words a person understands."""
        if self.blind_index or self.category is Category.IDENTIFIER:
            return "a keyed code that finds your records; stored, never shown"
        return "a credential (such as a password hash or a sign-in key); stored, never shown"

    def anonymised(self, value: Any) -> Any:
        if callable(self.anonymise_to):
            return self.anonymise_to(value)
        return self.anonymise_to


@dataclass
class ModelDeclaration:
    model: type[models.Model]
    fields: dict[str, ResolvedField]
    non_personal: frozenset[str]
    # None for tables that cannot name the person (lockout records keyed by address and
    # typed username): only their retention rule applies to them.
    subject_field: str | None = "subject"
    # False for internal working records left out of the person's exports (a DPO's notes
    # on a request); erasure and retention still cover them.
    in_exports: bool = True
    # A record of what happened (the consent ledger): never edited, so no rectification
    # writes to it; what changed is recorded as a new event.
    append_only: bool = False
    # Every retention rule of the model: the declaration's own, then the fields' overrides.
    retention_rules: tuple[Retention, ...] = ()
    # What a person reads for one row and for several ("location", "locations");
    # None: the model's verbose_name and verbose_name_plural.
    human: str | None = None
    human_plural: str | None = None
    # Rows a child may hold whatever their fields say, told by their content (an account's
    # service email); None: only the fields declared `for_children` decide.
    for_children_when: Callable[[Any], bool] | None = None

    @property
    def label(self) -> str:
        """The model label, `app_label.ModelName`: for code, audit data and logs."""
        return str(self.model._meta.label)

    @property
    def label_human(self) -> str:
        """The model's name as a person reads it, for one row ("outbound email")."""
        return self.human or str(self.model._meta.verbose_name)

    @property
    def label_human_plural(self) -> str:
        """The model's name as a person reads it, for several rows."""
        return self.human_plural or str(self.model._meta.verbose_name_plural)

    @property
    def deletes_row(self) -> bool:
        return any(f.erasure is Erasure.DELETE_ROW for f in self.fields.values())


class Registry:
    def __init__(self) -> None:
        self._declarations: dict[str, ModelDeclaration] = {}
        self._errors: list[str] = []

    def declare(
        self,
        model: type[models.Model],
        *,
        purposes: Iterable[str],
        source: Source,
        retention: Retention | Sequence[Retention],
        fields: dict[str, PersonalField],
        non_personal: Iterable[str],
        legal_basis: LegalBasis | None = None,
        erasure: Erasure = Erasure.DELETE_ROW,
        portable: bool = True,
        subject_field: str | None = "subject",
        for_children: bool = False,
        in_exports: bool = True,
        append_only: bool = False,
        label: str | None = None,
        label_plural: str | None = None,
        for_children_when: Callable[[Any], bool] | None = None,
    ) -> None:
        """Declare `model`'s personal data; see `personal_data` and docs/architecture.md.

        `label` and `label_plural` name the model as a person reads it when its
        verbose_name does not (a third-party model, a technical name).
        `for_children_when(row) -> bool` admits, for a child, rows that hold fields not
        declared `for_children` (the account's service emails; policy section 9).
        """
        model_label = model._meta.label
        if model_label in self._declarations:
            self._errors.append(f"{model_label}: declared twice")
            return
        default_purposes = tuple(purposes)
        # Several rules: the first is what a field is kept by unless it says otherwise.
        rules = (retention,) if isinstance(retention, Retention) else tuple(retention)
        if not rules:
            self._errors.append(f"{label}: declares no retention")
            return
        resolved: dict[str, ResolvedField] = {}
        for name, spec in fields.items():
            field_purposes = spec.purposes if spec.purposes is not None else default_purposes
            basis = spec.legal_basis or legal_basis
            if basis is None and field_purposes and field_purposes[0] in PURPOSES:
                basis = PURPOSES[field_purposes[0]].legal_basis
            resolved[name] = ResolvedField(
                name=name,
                category=spec.category,
                purposes=field_purposes,
                legal_basis=basis or LegalBasis.CONTRACT,
                source=spec.source or source,
                encrypted=spec.encrypted,
                blind_index=spec.blind_index,
                portable=spec.portable if spec.portable is not None else portable,
                erasure=spec.erasure or erasure,
                anonymise_to=spec.anonymise_to,
                retention=spec.retention or rules[0],
                for_children=spec.for_children if spec.for_children is not None else for_children,
                secret=spec.secret,
                mask=spec.mask,
                label=spec.label or _verbose_name(model, name),
            )
        self._declarations[model_label] = ModelDeclaration(
            model=model,
            fields=resolved,
            non_personal=frozenset(non_personal),
            subject_field=subject_field,
            in_exports=in_exports,
            append_only=append_only,
            retention_rules=tuple(
                dict.fromkeys([*rules, *(f.retention for f in resolved.values())])
            ),
            human=label,
            human_plural=label_plural,
            for_children_when=for_children_when,
        )

    def declarations(self) -> list[ModelDeclaration]:
        return list(self._declarations.values())

    def subject_declarations(self) -> list[ModelDeclaration]:
        """Declarations whose rows belong to one data subject: what access and erasure cover."""
        return [d for d in self._declarations.values() if d.subject_field is not None]

    def get(self, model: type[models.Model]) -> ModelDeclaration | None:
        return self._declarations.get(model._meta.label)

    def field(self, model: type[models.Model], name: str) -> ResolvedField:
        declaration = self.get(model)
        if declaration is None or name not in declaration.fields:
            raise KeyError(f"{model._meta.label}.{name} is not declared as personal data")
        return declaration.fields[name]

    # -- validation -----------------------------------------------------------------

    def validate(self) -> None:
        """Check every declaration against the real models; raise with all problems at once."""
        problems = list(self._errors)
        for declaration in self._declarations.values():
            problems.extend(_declaration_problems(declaration))
        if problems:
            raise ImproperlyConfigured(
                "Personal-data registry is invalid:\n  - " + "\n  - ".join(problems)
            )

    def conformance_problems(self) -> list[str]:
        """Fields of models linked to DataSubject that are neither declared nor non-personal."""
        from qualipact.privacy.models import DataSubject

        problems = []
        for model in apps.get_models():
            if model is DataSubject or not _links_to_subject(model, DataSubject):
                continue
            declaration = self.get(model)
            if declaration is None:
                problems.append(f"{model._meta.label} links to DataSubject but is not declared")
                continue
            covered = set(declaration.fields) | declaration.non_personal
            for model_field in model._meta.concrete_fields:
                if model_field.name not in covered:
                    problems.append(
                        f"{model._meta.label}.{model_field.name} is neither declared "
                        "nor marked non-personal"
                    )
        return problems


def _verbose_name(model: type[models.Model], name: str) -> str:
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name.replace("_", " ")  # validate() reports the missing field
    return str(getattr(found, "verbose_name", name.replace("_", " ")))


def label_problems(label: str, *, name: str = "") -> list[str]:
    """Why `label` would show a person an internal name; empty when it reads as words.

    Refused: an empty label, one with an underscore, a dotted app label
    (`comms.OutboundEmail`), or one equal to the attribute `name` it labels when that
    name has an underscore.
    """
    if not label.strip():
        return ["has no label"]
    problems = []
    if "_" in label:
        problems.append(f"label {label!r} has an underscore")
    if re.search(r"\b[a-z]+\.[A-Za-z]+\b", label):
        problems.append(f"label {label!r} looks like a dotted app label")
    if "_" in name and label == name:
        problems.append(f"label {label!r} is the attribute name")
    return problems


def _links_to_subject(model: type[models.Model], subject_model: type[models.Model]) -> bool:
    return any(
        f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is subject_model
        for f in model._meta.concrete_fields
    )


def _declaration_problems(declaration: ModelDeclaration) -> list[str]:
    from qualipact.privacy.fields import BlindIndexField, EncryptedTextField
    from qualipact.privacy.models import DataSubject

    model = declaration.model
    label = declaration.label
    problems: list[str] = []

    def model_field(name: str) -> models.Field | None:
        try:
            found = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        return found if isinstance(found, models.Field) else None

    for text in (declaration.label_human, declaration.label_human_plural):
        problems.extend(f"{label}: {problem}" for problem in label_problems(text))
    if declaration.subject_field is not None:
        subject = _path_field(model, declaration.subject_field)
        if subject is None or subject.related_model is not DataSubject:
            problems.append(
                f"{label}: needs a foreign key '{declaration.subject_field}' to DataSubject"
            )
    for name in declaration.non_personal:
        if model_field(name) is None:
            problems.append(f"{label}: non-personal field '{name}' does not exist")
    for name, spec in declaration.fields.items():
        where = f"{label}.{name}"
        problems.extend(f"{where}: {problem}" for problem in label_problems(spec.label, name=name))
        found = model_field(name)
        if found is None:
            problems.append(f"{where}: declared but the model has no such field")
            continue
        if name in declaration.non_personal:
            problems.append(f"{where}: declared both personal and non-personal")
        if not spec.purposes:
            problems.append(f"{where}: names no purpose")
        for code in spec.purposes:
            if code not in PURPOSES:
                problems.append(f"{where}: unknown purpose '{code}'")
        bases = {PURPOSES[c].legal_basis for c in spec.purposes if c in PURPOSES}
        if bases and spec.legal_basis not in bases:
            problems.append(
                f"{where}: legal basis '{spec.legal_basis}' is not the basis of any of its purposes"
            )
        if declaration.subject_field is None and (spec.encrypted or spec.blind_index):
            problems.append(f"{where}: a table without a subject cannot use the vault")
        if spec.encrypted != isinstance(found, EncryptedTextField):
            problems.append(f"{where}: encrypted={spec.encrypted} but the field type disagrees")
        if spec.blind_index != isinstance(found, BlindIndexField):
            problems.append(f"{where}: blind_index={spec.blind_index} but the field type disagrees")
        if spec.blind_index and not spec.secret:
            problems.append(f"{where}: a blind index is a secret; declare secret=True")
        if (
            isinstance(found, EncryptedTextField)
            and found.subject_field != declaration.subject_field
        ):
            problems.append(
                f"{where}: encrypted under '{found.subject_field}' but the declaration's "
                f"subject is '{declaration.subject_field}'"
            )
        if spec.erasure is Erasure.ANONYMISE and spec.anonymise_to is None and not found.null:
            problems.append(
                f"{where}: anonymising to None needs a nullable field; set anonymise_to"
            )
        if spec.retention.then is Erasure.ANONYMISE and callable(spec.anonymise_to):
            problems.append(f"{where}: retention anonymises in bulk; give a constant anonymise_to")
        for action, what in ((spec.erasure, "erasure"), (spec.retention.then, "retention")):
            if action is Erasure.NULL and not found.null:
                problems.append(f"{where}: {what} clears the field but it is not nullable")
            if action is Erasure.ANONYMISE and (spec.encrypted or spec.blind_index):
                problems.append(
                    f"{where}: {what} cannot anonymise an encrypted or blind-indexed field; "
                    "use null or delete_row"
                )
    for rule in declaration.retention_rules:
        problems.extend(_retention_problems(declaration, rule))
    return problems


def _retention_problems(declaration: ModelDeclaration, rule: Retention) -> list[str]:
    """What is wrong with one retention rule of a declaration."""
    model = declaration.model
    where = f"{declaration.label} retention ({rule.describe()})"
    problems = []
    for anchor in (rule.after, rule.or_after):
        if anchor is not None and not isinstance(_path_field(model, anchor), models.DateField):
            problems.append(f"{where}: counts from '{anchor}', which is not a date field")
    if rule.period is None and rule.ends_with_consent is None:
        problems.append(f"{where}: a rule without a period must end with consent")
    if rule.period is not None and rule.period < timedelta(0):
        problems.append(f"{where}: the period cannot be negative")
    if rule.ends_with_consent is not None:
        purpose = PURPOSES.get(rule.ends_with_consent)
        if purpose is None or purpose.legal_basis is not LegalBasis.CONSENT:
            problems.append(f"{where}: '{rule.ends_with_consent}' is not a purpose on consent")
    if (rule.erases_subject or rule.ends_with_consent) and declaration.subject_field is None:
        problems.append(f"{where}: needs the rows' data subject")
    if rule.erases_subject and rule.then is not Erasure.DELETE_ROW:
        problems.append(f"{where}: erasing the person deletes; set then=delete_row")
    try:
        str(model._base_manager.filter(lookups_q(rule.only)).exclude(lookups_q(rule.unless)).query)
    except Exception as error:
        problems.append(f"{where}: its only/unless lookups are invalid ({error})")
    return problems


def _path_field(model: type[models.Model], path: str) -> models.Field | None:
    """The field at the end of a lookup path such as "subject" or "user__subject"."""
    *hops, last = path.split("__")
    current: Any = model
    try:
        for hop in hops:
            current = current._meta.get_field(hop).related_model
            if current is None:
                return None
        found = current._meta.get_field(last)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


registry = Registry()


def personal_data(model: type[models.Model], **kwargs: Any) -> None:
    """Declare a model's personal data; see docs/architecture.md for a worked example."""
    registry.declare(model, **kwargs)

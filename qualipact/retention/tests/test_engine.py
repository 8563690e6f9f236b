"""The retention engine enforces every rule the registry declares, model by model.

For each rule of each declared model, three rows: one past its period (gone, cleared or
its person erased), one inside it (kept), and one past it under a legal hold (kept).
Rows are built from the model's own fields, so a newly declared model is covered
without a new test; `MAKE_RELATED` says how to build a related row where one is needed.
"""

import secrets
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.utils import timezone

from qualipact.privacy.audit import Actor
from qualipact.privacy.fields import EncryptedTextField
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.registry import Erasure, registry
from qualipact.retention.engine import Sweep, retention_sweep, sweeps, unenforced_rules
from qualipact.retention.events import RetentionCode
from qualipact.retention.models import LegalHold

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

NOW = timezone.now()
TEST = Actor.system("test")


def test_it_enforces_every_declared_retention_rule():
    assert unenforced_rules() == []
    declared = {d.label for d in registry.declarations()}
    assert declared == {sweep.label for sweep in sweeps()}


# -- building a row of any declared model ------------------------------------------------


def _related(field: models.ForeignKey, subject: DataSubject) -> models.Model:
    label = field.related_model._meta.label
    if label == "privacy.DataSubject":
        return subject
    if label == "accounts.User":
        return _account(subject)
    if label == "rights.DataRequest":
        return _row(field.related_model, subject, {"status": "completed"})
    return _row(field.related_model, subject, {})


def _account(subject: DataSubject) -> models.Model:
    from qualipact.accounts.models import User

    existing = User.objects.filter(subject=subject).first()
    if existing is not None:
        return existing
    return _row(User, subject, {})


def _text(length: int) -> str:
    return secrets.token_hex(32)[:length]


def _value(field: models.Field, subject: DataSubject):
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, EncryptedTextField):
        return f"{_text(12)}@example.org"
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return _related(field, subject)
    if isinstance(field, models.DateTimeField):
        return NOW
    if isinstance(field, models.DateField):
        return NOW.date()
    if isinstance(field, models.IntegerField | models.FloatField):
        return 0
    if isinstance(field, models.BinaryField):
        return b"sealed"
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.CharField | models.TextField):
        return _text(min(field.max_length or 32, 32))
    raise AssertionError(f"no test value for {field!r}")


class _RelatedWhere:
    """A related row to build for the row's subject, meeting a condition (a lookup path
    relative to the related model and its value)."""

    def __init__(self, model: type[models.Model], lookup: str, wanted) -> None:
        self.model, self.lookup, self.wanted = model, lookup, wanted

    def build(self, subject: DataSubject) -> models.Model:
        name, _, rest = self.lookup.partition("__")
        field = self.model._meta.get_field(name)
        value = _related_where(field, rest, self.wanted).build(subject) if rest else self.wanted
        return _row(self.model, subject, {name: value})


def _related_where(field, lookup: str, wanted) -> _RelatedWhere:
    return _RelatedWhere(field.related_model, lookup, wanted)


def _row(model: type[models.Model], subject: DataSubject, values: dict) -> models.Model:
    row = model()
    for field in model._meta.concrete_fields:
        if field.name in values:
            value = values[field.name]
            if isinstance(value, _RelatedWhere):
                value = value.build(subject)
            setattr(row, field.name, value)
        elif not (field.primary_key or field.has_default() or field.null):
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                continue
            setattr(row, field.name, _value(field, subject))
    row.save()
    return row


def _matching(sweep: Sweep) -> dict:
    """Values that put a row inside the rule's `only` and outside its `unless`."""
    values: dict = {}
    lookups = sweep.rule.only if not callable(sweep.rule.only) else ()
    model = sweep.declaration.model
    for lookup, wanted in lookups:
        name, _, op = lookup.partition("__")
        field = model._meta.get_field(name)
        if op and field.is_relation and op not in ("isnull", "in"):
            # A condition on a related row ("inquiry__status"): a related row that meets it.
            values[name] = _related_where(field, op, wanted)
        elif op == "isnull":
            values[name] = None if wanted else NOW
        elif op == "in":
            values[name] = wanted[0]
        else:
            values[name] = wanted
    unless = sweep.rule.unless if not callable(sweep.rule.unless) else ()
    for lookup, wanted in unless:
        name, _, op = lookup.partition("__")
        if op == "isnull":
            values[name] = NOW if wanted else None
        elif not op and model._meta.get_field(name).choices:  # another choice than `wanted`
            choices = [value for value, _ in model._meta.get_field(name).choices]
            values[name] = next(value for value in choices if value != wanted)
    for name in sweep.fields:  # something for a clearing rule to clear
        values[name] = _value(model._meta.get_field(name), None)
    if sweep.label == "rights.DataRequest":
        values.setdefault("status", "completed")
    if sweep.label == "accounts.ParentalConsent":  # a request still open, unless aged
        values["expires_at"] = NOW + timedelta(days=7)
    if sweep.label == "offers.LocationFix":  # a country fix holds a country only
        values.update(method="ip_country", country="DE")
    return values


def _subject_path(sweep: Sweep) -> str:
    return str(sweep.declaration.subject_field or "")


def _subject_of(row: models.Model, sweep: Sweep) -> DataSubject | None:
    path = _subject_path(sweep)
    if not path:
        return None
    value = row
    for hop in path.split("__"):
        value = getattr(value, hop)
    return value


def _age(row: models.Model, sweep: Sweep, *, expired: bool) -> None:
    """Move the row's retention anchor past the period (or just inside it)."""
    rule = sweep.rule
    period = rule.period or timedelta(0)
    moment = NOW - period - timedelta(days=1) if expired else NOW - period + timedelta(days=1)
    *hops, last = rule.after.split("__")
    target = row
    for hop in hops:
        if hop == "account":  # data kept as long as the account: the person needs one
            _account(target)
        target = getattr(target, hop)
    type(target)._base_manager.filter(pk=target.pk).update(**{last: moment})


def _make(sweep: Sweep, *, expired: bool, held: bool = False) -> models.Model:
    subject = DataSubject.objects.create()
    row = _row(sweep.declaration.model, subject, _matching(sweep))
    if sweep.rule.ends_with_consent is not None:
        # The consent part of the rule is tested on its own below: here the person consents.
        from qualipact.consent.services import consent_grant

        owner = _subject_of(row, sweep)
        consent_grant(
            subject=owner, purpose=sweep.rule.ends_with_consent, channel="web_form", actor=TEST
        )
    if sweep.rule.period is not None:
        _age(row, sweep, expired=expired)
    if held:
        LegalHold.objects.create(
            subject=_subject_of(row, sweep),
            basis="legal_claims",
            models_held=[sweep.label],
            placed_by="test",
        )
    return row


def _gone(row: models.Model, sweep: Sweep) -> bool:
    model = type(row)
    if sweep.rule.erases_subject:
        subject = DataSubject.objects.get(pk=_subject_of(row, sweep).pk)
        return subject.erased_at is not None and not model._base_manager.filter(pk=row.pk).exists()
    if sweep.rule.then is Erasure.DELETE_ROW:
        return not model._base_manager.filter(pk=row.pk).exists()
    values = model._base_manager.filter(pk=row.pk).values(*sweep.fields).get()
    return all(values[name] == value for name, value in sweep.values().items())


TIMED = [s for s in sweeps() if s.rule.period is not None]


@pytest.mark.parametrize("sweep", TIMED, ids=lambda s: f"{s.label}:{s.rule.describe()[:40]}")
def test_it_removes_a_row_past_its_period_and_keeps_one_inside_it(sweep):
    old = _make(sweep, expired=True)
    fresh = _make(sweep, expired=False)

    results = retention_sweep(model=sweep.label)

    assert _gone(old, sweep)
    assert not _gone(fresh, sweep)
    mine = [r for r in results if r.rule == sweep.rule.describe()]
    assert mine[0].done == 1


@pytest.mark.parametrize(
    "sweep",
    [s for s in TIMED if s.declaration.subject_field is not None],
    ids=lambda s: f"{s.label}:{s.rule.describe()[:40]}",
)
def test_it_keeps_a_row_past_its_period_under_a_legal_hold(sweep):
    held = _make(sweep, expired=True, held=True)

    results = retention_sweep(model=sweep.label)

    assert not _gone(held, sweep)
    mine = [r for r in results if r.rule == sweep.rule.describe()]
    assert mine[0].held_back == 1
    assert mine[0].done == 0


CONSENTED = [s for s in sweeps() if s.rule.ends_with_consent is not None]


@pytest.mark.parametrize("sweep", CONSENTED, ids=lambda s: f"{s.label}:{s.rule.describe()[:40]}")
def test_it_removes_the_rows_of_a_person_who_withdrew_consent(sweep):
    from qualipact.consent.services import consent_withdraw

    kept = _make(sweep, expired=False)
    withdrawn = _make(sweep, expired=False)
    consent_withdraw(
        subject=_subject_of(withdrawn, sweep),
        purpose=sweep.rule.ends_with_consent,
        channel="web_form",
        actor=TEST,
    )

    retention_sweep(model=sweep.label)

    assert _gone(withdrawn, sweep)
    assert not _gone(kept, sweep)


def test_it_keeps_the_rows_of_a_restricted_person_who_still_consents():
    """Art 18: restriction means "store, do nothing else", never delete."""
    from qualipact.privacy.services import subject_restrict

    sweep = next(s for s in CONSENTED if s.label == "offers.LocationFix")
    row = _make(sweep, expired=False)
    subject_restrict(subject=_subject_of(row, sweep), actor=TEST, reason="test")

    retention_sweep(model=sweep.label)

    assert not _gone(row, sweep)


def test_it_writes_one_audit_event_per_batch_not_per_row():
    sweep = next(s for s in sweeps() if s.label == "contact.Inquiry")
    for _ in range(5):
        _make(sweep, expired=True)
    before = AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).count()

    results = retention_sweep(model="contact.Inquiry", batch_size=2)

    events = AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).order_by("id")[before:]
    rows = [e.data["rows"] for e in events]
    assert sum(rows) == results[0].done == 5
    assert len(rows) == results[0].batches
    assert {e.data["model"] for e in events} == {"contact.Inquiry"}
    if connection.vendor == "sqlite":
        # Batches follow the rowid; PostgreSQL's follow whole pages, which hold all five.
        assert rows == [2, 2, 1]


def test_it_is_idempotent():
    sweep = next(s for s in sweeps() if s.label == "comms.OutboundEmail")
    _make(sweep, expired=True)

    first = retention_sweep(model="comms.OutboundEmail")
    second = retention_sweep(model="comms.OutboundEmail")

    assert first[0].done == 1
    assert second[0].due == second[0].done == 0


def test_it_changes_nothing_in_a_dry_run(capsys):
    sweep = next(s for s in sweeps() if s.label == "contact.Inquiry")
    old = _make(sweep, expired=True)

    call_command("retention_sweep", "--dry-run", "--model", "contact.Inquiry")

    out = capsys.readouterr().out
    assert "contact.Inquiry" in out and "1 row(s) would go (dry run: nothing changed)" in out
    assert not _gone(old, sweep)
    call_command("retention_sweep", "--model", "contact.Inquiry")
    assert _gone(old, sweep)
    assert "1 row(s) done" in capsys.readouterr().out


def test_it_refuses_an_unknown_model_with_a_clear_message():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No declared model has this label"):
        call_command("retention_sweep", "--model", "contact.Nothing")


def test_it_never_sweeps_a_request_still_open():
    from qualipact.rights.models import DataRequest

    sweep = next(s for s in sweeps() if s.label == "rights.DataRequest")
    row = _make(sweep, expired=True)
    DataRequest.objects.filter(pk=row.pk).update(status=DataRequest.Status.IN_PROGRESS)

    retention_sweep(model="rights.DataRequest")

    assert DataRequest.objects.filter(pk=row.pk).exists()


def test_it_signs_out_a_person_whose_account_expired(client):
    from conftest import account_for
    from qualipact.accounts.models import User

    person = account_for("alice")
    client.force_login(person)
    User.objects.filter(pk=person.pk).update(last_login=NOW - timedelta(days=3 * 365 + 1))

    retention_sweep(model="accounts.User")

    assert not User.objects.filter(pk=person.pk).exists()
    assert DataSubject.objects.get(pk=person.subject_id).erased_at is not None
    assert client.get("/accounts/").status_code == 302  # to sign in: the session is gone


def test_it_counts_an_account_never_signed_in_to_from_its_creation():
    from qualipact.accounts.models import User

    sweep = next(s for s in sweeps() if s.label == "accounts.User")
    subject = DataSubject.objects.create()
    never = _row(User, subject, {"last_login": None})
    User.objects.filter(pk=never.pk).update(created_at=NOW - timedelta(days=3 * 365 + 1))

    retention_sweep(model="accounts.User")

    assert _gone(never, sweep)


def test_it_keeps_the_rows_of_a_person_whose_consent_awaits_renewal():
    """New wording that needs renewal pauses processing; it does not erase what the
    person gave under the old words (kept until they renew, withdraw, or it expires)."""
    from qualipact.consent.models import ConsentWording
    from qualipact.privacy.enforcement import may_process

    sweep = next(s for s in CONSENTED if s.label == "offers.LocationFix")
    row = _make(sweep, expired=False)
    ConsentWording.objects.create(
        purpose="location_features",
        text="We now also use your location for events near you.",
        sha256=_text(64),
        policy_version=2,
        requires_renewal=True,
    )
    person = _subject_of(row, sweep)
    assert not may_process(person, "location_features")

    retention_sweep(model=sweep.label)

    assert not _gone(row, sweep)

"""Every path that erases or sweeps personal data goes through the one erasure primitive,
and each of them keeps what a legal hold covers (hardening item 10).

The callers are found in the source (an AST walk), not listed by hand: a new function that
erases through the primitive without a scenario here, or a new `.delete()` anywhere
outside the primitive, fails `test_it_knows_every_path_that_erases`.
"""

import ast
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import account_for, submit_persona
from qualipact.accounts.models import ParentalConsent, User
from qualipact.accounts.services import account_delete, children
from qualipact.accounts.tests.test_children import child_sign_up, consent_token
from qualipact.contact.models import Inquiry
from qualipact.offers.models import LocationFix
from qualipact.offers.services import location_forget
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import DataSubject
from qualipact.retention.services import legal_hold_lift, legal_hold_place
from qualipact.rights.models import DataRequest, ExportFile
from qualipact.rights.services import fulfil, request_submit

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PACKAGE = Path(__file__).resolve().parents[2]
PRIMITIVE = "qualipact.privacy.erasure"
ENTRY_POINTS = {"subject_erase", "rows_erase", "rows_update", "rows_without_holds"}
DELETES = {"delete", "_raw_delete"}
STAFF = Actor.staff("dpo-1")

# Deletes that are not erasures of declared personal data, and why.
OTHER_DELETES = {
    "qualipact.accounts.services.sessions:_end": "Django's own session row: ending a sign-in",
    "qualipact.analytics.services:salt_rotate": "daily salts and aggregates, no person's data",
    # An invitation lives only until it is used, cancelled or replaced: its end is the
    # purpose fulfilled, not an erasure (expired ones are left to the retention engine).
    "qualipact.backoffice.services.staff:staff_invite": "a new invitation replaces the old one",
    "qualipact.backoffice.services.staff:staff_invite_accept": "an invitation used is spent",
    "qualipact.backoffice.services.staff:staff_invite_cancel": "an administrator's cancellation",
    "qualipact.offers.services:topic_preferences_set": (
        "the person's own change of the topics they chose, not an erasure"
    ),
    "qualipact.privacy.vault:key_destroy": "the key shred, reached only through the primitive",
    "qualipact.web.submissions:submitted_once": "a cache entry: a form submission's keyed hash",
    "qualipact.privacy.deferred:deferred_run": (
        "the sealed input of a background job, consumed once the job is done or given up"
    ),
}


class _Calls(ast.NodeVisitor):
    """Records (module:top-level function, called name) for the calls of interest."""

    def __init__(self, module: str, found: list[tuple[str, str]]) -> None:
        self.module, self.found, self.stack = module, found, []

    def visit_FunctionDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ENTRY_POINTS | DELETES:
            where = self.stack[0] if self.stack else "<module>"
            self.found.append((f"{self.module}:{where}", name))
        self.generic_visit(node)


def _calls() -> list[tuple[str, str]]:
    """(module:function, called name) for every call of interest outside tests."""
    found: list[tuple[str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if {"tests", "migrations"} & set(path.parts):
            continue
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        _Calls(module, found).visit(ast.parse(path.read_text()))
    return found


def hold(subject, *labels: str):
    return legal_hold_place(
        subject=subject, basis="legal_claims", actor=STAFF, models_held=list(labels)
    )


def long_ago(model, *, days: int, **filters):
    """Move rows back in time, past their retention."""
    then = timezone.now() - timedelta(days=days)
    fields = {f.name for f in model._meta.fields}
    changes = {name: then for name in ("created_at", "updated_at", "viewed_at", "recorded_at",
                                        "last_seen_at", "received_at", "expires_at")
               if name in fields}  # fmt: skip
    model._base_manager.filter(**filters).update(**changes)


# -- one scenario per caller: a hold is placed, the caller runs, the held rows stay ----------


def account_deletion():
    alice = account_for("alice")
    submit_persona("alice")
    hold(alice.subject)  # everything of the person
    account_delete(user=alice, actor=Actor.subject(alice.subject_id))
    inquiry = Inquiry.objects.get(subject=alice.subject)
    assert inquiry.message  # kept, readable: the key was not shredded
    assert not User.objects.get(pk=alice.pk).is_active  # ... and the account is unusable


def child_account_deletion():
    parent = account_for("alice")
    child = child_sign_up(parent_email="alice.marchetti@example.org")
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    hold(child.subject, "accounts.ParentalConsent")
    children.child_account_delete(parent=parent, child=child)
    assert ParentalConsent.objects.filter(subject=child.subject).exists()
    assert not vault.is_shredded(child.subject_id)


def retention_engine():
    """Every kind of rule: deleting rows, clearing a field, erasing a person."""
    from qualipact.retention.engine import retention_sweep

    alice = account_for("alice")
    submit_persona("alice")
    fulfil.request_fulfil(request_id=_request(alice.subject).pk)
    long_ago(Inquiry, days=800)
    ExportFile.objects.update(expires_at=timezone.now() - timedelta(days=1))
    User.objects.filter(pk=alice.pk).update(last_login=timezone.now() - timedelta(days=1200))
    hold(alice.subject)  # everything of the person
    child = child_sign_up(parent_email="pat.parent@example.org")
    hold(child.subject, "accounts.ParentalConsent")
    ParentalConsent.objects.filter(subject=child.subject).update(expires_at=timezone.now())

    retention_sweep()

    assert Inquiry.objects.filter(subject=alice.subject).exists()
    assert ExportFile.objects.get(subject=alice.subject).sealed is not None
    assert User.objects.filter(pk=alice.pk).exists()
    assert ParentalConsent.objects.filter(subject=child.subject).exists()
    assert not vault.is_shredded(alice.subject_id)
    assert not vault.is_shredded(child.subject_id)


def test_rows_that_name_nobody_are_swept_whatever_the_holds():
    from axes.models import AccessAttempt

    from qualipact.retention.engine import retention_sweep

    AccessAttempt.objects.create(username="someone", ip_address="192.0.2.1", failures_since_start=1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(days=31))
    # No person can be named in these rows, so no hold can cover them: they go.
    retention_sweep(model="axes.AccessAttempt")
    assert not AccessAttempt.objects.exists()


def location_forgetting():
    alice = account_for("alice")
    LocationFix.objects.create(
        subject=alice.subject, method="browser", position="51.45,-2.59", recorded_at=timezone.now()
    )
    hold(alice.subject, "offers.LocationFix")
    assert location_forget(subject=alice.subject, actor=Actor.subject(alice.subject_id)) == 0
    assert LocationFix.objects.filter(subject=alice.subject).exists()


def _request(subject, kind="access") -> DataRequest:
    return request_submit(
        subject=subject, kind=kind, channel="account", actor=Actor.subject(subject.pk)
    )


def erasure_request():
    alice = account_for("alice")
    submit_persona("alice")
    hold(alice.subject, "contact.Inquiry")
    done = fulfil.request_fulfil(request_id=_request(alice.subject, "erasure").pk)
    assert done.outcome["complete"] is False
    assert Inquiry.objects.filter(subject=alice.subject).exists()


def erasure_resumed_after_one_of_two_holds_is_lifted():
    alice = account_for("alice")
    submit_persona("alice")
    first = hold(alice.subject, "contact.Inquiry")
    hold(alice.subject, "contact.Inquiry")
    fulfil.request_fulfil(request_id=_request(alice.subject, "erasure").pk)
    legal_hold_lift(hold=first, actor=STAFF)
    fulfil.erasure_resume(subject=DataSubject.objects.get(pk=alice.subject_id), actor=STAFF)
    assert Inquiry.objects.filter(subject=alice.subject).exists()  # the second still holds


SCENARIOS: dict[str, Callable[[], None]] = {
    "qualipact.retention.engine:_people_erase": retention_engine,
    "qualipact.retention.engine:_rows_apply": retention_engine,
    "qualipact.retention.engine:retention_sweep": retention_engine,
    "qualipact.accounts.services.accounts:account_delete": account_deletion,
    "qualipact.accounts.services.children:_child_erase": child_account_deletion,
    "qualipact.offers.services:location_forget": location_forgetting,
    "qualipact.rights.services.fulfil:_erase": erasure_request,
    "qualipact.rights.services.fulfil:erasure_resume": (
        erasure_resumed_after_one_of_two_holds_is_lifted
    ),
}


def test_it_knows_every_path_that_erases():
    calls = _calls()
    callers = {where for where, name in calls if name in ENTRY_POINTS}
    callers = {c for c in callers if not c.startswith(f"{PRIMITIVE}:")}
    assert callers == set(SCENARIOS), "a caller of the erasure primitive has no hold scenario"
    deletes = {where for where, name in calls if name in DELETES}
    deletes = {d for d in deletes if not d.startswith(f"{PRIMITIVE}:")}
    assert deletes == set(OTHER_DELETES), "a delete bypasses the erasure primitive"


@pytest.mark.parametrize("caller", sorted(SCENARIOS))
def test_every_erasure_path_keeps_what_a_legal_hold_covers(caller):
    SCENARIOS[caller]()


def test_it_erases_an_empty_selection_as_nothing():
    from qualipact.privacy.erasure import rows_erase

    assert rows_erase(Inquiry.objects.filter(pk__in=[])) == {"contact.Inquiry": 0}
    assert rows_erase(Inquiry.objects.none()) == {"contact.Inquiry": 0}

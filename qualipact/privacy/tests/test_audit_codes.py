"""Audit codes belong to the app that writes them; purposes come from the registry."""

import ast
import itertools
from enum import IntEnum
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from qualipact.privacy.audit import (
    Actor,
    EventCode,
    audit_code_name,
    audit_code_ranges,
    audit_codes_register,
    audit_log,
)
from qualipact.privacy.models import AuditEvent

PACKAGE = Path(__file__).resolve().parents[2]


class Unregistered(IntEnum):
    STRAY = 990


@pytest.mark.django_db
def test_it_refuses_an_unknown_purpose():
    with pytest.raises(ValueError, match="Unknown audit purpose 'custmer_support'"):
        audit_log(code=EventCode.SUBJECT_CREATED, actor=Actor.system(), purpose="custmer_support")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_takes_a_declared_purpose_or_none():
    audit_log(code=EventCode.SUBJECT_CREATED, actor=Actor.system(), purpose="security")
    audit_log(code=EventCode.SUBJECT_CREATED, actor=Actor.system())
    assert [e.purpose for e in AuditEvent.objects.order_by("id")] == ["security", ""]


@pytest.mark.django_db
def test_it_refuses_an_unregistered_code():
    with pytest.raises(ValueError, match="Audit code 990 is not registered"):
        audit_log(code=Unregistered.STRAY, actor=Actor.system())
    assert not AuditEvent.objects.exists()


def test_it_refuses_a_range_that_overlaps_another_apps():
    class Careers(IntEnum):
        APPLICATION_RECEIVED = 350

    with pytest.raises(ImproperlyConfigured, match="overlap contact's 300-399"):
        audit_codes_register(owner="careers", codes=Careers, span=range(350, 360))
    assert "careers" not in {r.owner for r in audit_code_ranges()}


def test_it_refuses_a_code_outside_the_apps_range():
    class Careers(IntEnum):
        APPLICATION_RECEIVED = 300

    with pytest.raises(ImproperlyConfigured, match="APPLICATION_RECEIVED=300 lies outside 900-949"):
        audit_codes_register(owner="careers", codes=Careers, span=range(900, 950))
    assert audit_code_name(300) == "INQUIRY_SUBMITTED"


def test_it_registers_every_apps_codes_at_start_up_in_ranges_of_their_own():
    ranges = audit_code_ranges()
    assert [r.owner for r in ranges] == [
        "privacy",
        "contact",
        "consent",
        "comms",
        "offers",
        "accounts",
        "rights",
        "retention",
        "backoffice",
        "support",
    ]
    for lower, upper in itertools.pairwise(ranges):
        assert lower.span.stop <= upper.span.start


def test_it_names_a_stored_code_by_the_app_that_owns_it():
    assert audit_code_name(100) == "SUBJECT_CREATED"
    assert audit_code_name(400) == "CONSENT_GRANTED"
    assert audit_code_name(822) == "RIGHTS_REQUEST_FOR_OTHER_REFUSED"
    assert audit_code_name(999) == "999"


def _inline_calls() -> set[tuple[str, str]]:
    """(file, enclosing function) of every audit_log(...) call outside events modules
    and the privacy core."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if (
            path.name == "events.py"
            or relative.startswith("privacy/")
            or "/tests/" in f"/{relative}"
            or "/migrations/" in relative
        ):
            continue
        tree = ast.parse(path.read_text(), filename=relative)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and (
                    getattr(node.func, "id", None) == "audit_log"
                    or getattr(node.func, "attr", None) == "audit_log"
                ):
                    found.add((relative, function.name))
        for node in tree.body:  # a call at module level names no function
            for call in ast.walk(node):
                if (
                    not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                    and isinstance(call, ast.Call)
                    and getattr(call.func, "id", None) == "audit_log"
                ):
                    found.add((relative, "<module>"))
    return found


def test_it_writes_audit_events_only_through_each_apps_event_functions():
    assert _inline_calls() == set()

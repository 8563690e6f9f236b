"""What every app's `events.py` promises, checked the same way for each app.

Each public `*_event` function is called with stand-in arguments built from its type
hints and writes a real audit event: its code is one of the app's own (inside the range
the app registered), the number its docstring starts with, and its purpose is a declared
purpose. Each app's `tests/test_events.py` takes its tests from `contract_tests`.
"""

from __future__ import annotations

import inspect
import re
import sys
import uuid
from datetime import date
from enum import IntEnum
from types import ModuleType
from typing import Any

import pytest

from qualipact.privacy.audit import Actor, audit_code_ranges
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.purposes import PURPOSES

_UUIDS = ("pk", "id", "subject_id", "request_id")
_INTS = ("attempts", "verification_attempts", "fulfil_attempts")


class StandIn:
    """A model row as an event function reads it: ids are UUIDs, counts ints, codes words."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)

    def __getattr__(self, name: str) -> Any:
        if name in _UUIDS:
            value: Any = uuid.uuid4()
        elif name in _INTS:
            value = 1
        elif name == "purpose":
            value = "service_delivery"
        elif name == "models_held":
            value = ["contact.Inquiry"]
        else:
            value = "code"
        setattr(self, name, value)
        return value


def event_functions(module: ModuleType) -> list[Any]:
    """The module's own public event functions, in source order."""
    found = [
        value
        for name, value in vars(module).items()
        if name.endswith("_event")
        and not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == module.__name__
    ]
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def _stand_in(name: str, annotation: str, codes: type[IntEnum]) -> Any:
    if "Actor" in annotation:
        return Actor.system("events_test")
    if annotation.startswith(codes.__name__):
        # A function that takes a code (why a child is erased) accepts only some codes.
        return sorted(getattr(codes_module(codes), "CHILD_ERASURE_CODES", codes))[0]
    if "UUID" in annotation:
        return uuid.uuid4()
    if annotation == "int":
        return 1
    if annotation == "bool":
        return True
    if annotation == "date":
        return date(2026, 1, 1)
    if annotation == "str":
        return "customer_support" if name == "purpose" else "code"
    if annotation.startswith(("list[str]", "Iterable[str]")):
        return ["code"]
    if annotation.startswith("dict"):
        return {"reason": "code"}
    if annotation.startswith(("Iterable", "list")):
        return [StandIn()]
    return StandIn()


def codes_module(codes: type[IntEnum]) -> ModuleType:
    return sys.modules[codes.__module__]


def event_written(function: Any, codes: type[IntEnum]) -> AuditEvent:
    """Call `function` with stand-ins; return the event it wrote (needs the database)."""
    kwargs = {
        name: _stand_in(name, str(param.annotation), codes)
        for name, param in inspect.signature(function).parameters.items()
    }
    event = function(**kwargs)
    assert isinstance(event, AuditEvent)
    return AuditEvent.objects.get(pk=event.pk)


def event_problems(function: Any, codes: type[IntEnum]) -> list[str]:
    """Why `function` breaks the contract; empty when it keeps it."""
    event = event_written(function, codes)
    problems = []
    owner = next(r for r in audit_code_ranges() if r.codes is codes)
    if event.code not in {member.value for member in codes} or event.code not in owner.span:
        problems.append(f"wrote {event.code}, not one of {owner.owner}'s codes")
    documented = re.match(r"(\d+):", inspect.getdoc(function) or "")
    if documented and int(documented.group(1)) != event.code:
        problems.append(f"documents {documented.group(1)} but wrote {event.code}")
    if event.purpose not in PURPOSES:
        problems.append(f"wrote purpose {event.purpose!r}, not a declared purpose")
    return problems


def contract_tests(module: ModuleType, codes: type[IntEnum]) -> tuple[Any, Any]:
    """The two tests each app runs on its `events.py`; assign them to `test_...` names."""

    @pytest.mark.django_db
    @pytest.mark.parametrize("function", event_functions(module), ids=lambda f: f.__name__)
    def writes_its_own_code_and_a_declared_purpose(function: Any) -> None:
        assert event_problems(function, codes) == []

    @pytest.mark.django_db
    def writes_a_different_code_from_each_function() -> None:
        written = [event_written(f, codes).code for f in event_functions(module)]
        assert len(written) == len(set(written))

    return writes_its_own_code_and_a_declared_purpose, writes_a_different_code_from_each_function

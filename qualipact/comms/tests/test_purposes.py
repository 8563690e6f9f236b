"""Every email says what it is for, and the outbox alone decides from that whether the
person gets it: no caller checks a person's choices itself."""

import ast
from pathlib import Path

import pytest

import qualipact
from qualipact.comms.services import REQUIRED_PURPOSES, email_kind
from qualipact.privacy.purposes import PURPOSES

PACKAGE = Path(qualipact.__file__).parent


def outbox_calls() -> list[tuple[str, int, ast.Call]]:
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "email_queue":
                    calls.append((str(path.relative_to(PACKAGE)), node.lineno, node))
    return calls


def test_it_finds_the_callers_of_the_outbox():
    files = {path for path, _, _ in outbox_calls()}
    assert {
        "accounts/services/sessions.py",
        "accounts/services/accounts.py",
        "comms/newsletters.py",
    } <= files


@pytest.mark.parametrize(
    ("path", "line", "call"),
    outbox_calls(),
    ids=[f"{path}:{line}" for path, line, _ in outbox_calls()],
)
def test_it_names_a_known_purpose_in_every_call_to_the_outbox(path, line, call):
    purpose = next((k.value for k in call.keywords if k.arg == "purpose"), None)
    # A literal, or a choice between literals (`"a" if … else "b"`): each one is known.
    named = [purpose.body, purpose.orelse] if isinstance(purpose, ast.IfExp) else [purpose]
    for value in named:
        assert isinstance(value, ast.Constant), f"{path}:{line} does not name its purpose"
        assert value.value in PURPOSES
    assert not [k for k in call.keywords if k.arg == "kind"]


def test_it_requires_only_known_purposes_and_never_marketing():
    assert set(PURPOSES) >= REQUIRED_PURPOSES
    assert all(email_kind(purpose) == "service" for purpose in REQUIRED_PURPOSES)
    assert "service_notifications" not in REQUIRED_PURPOSES

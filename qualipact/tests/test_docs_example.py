"""The worked example in docs/architecture.md ("Adding personal data to an app, step by
step") works when copied.

The code blocks between the page's example markers are written out, unchanged, as the
files their first line names (`# qualipact/feedback/models.py`), in a folder added to
the `qualipact` package's path for this test only. The app is then installed the way
Django's start-up does it (its config, its models, `ready()`, the registry's
autodiscovery and validation), its table created, and the example's own tests run. So
the declaration must pass the registry's checks, the event function must write an audit
row with its registered code, and the retention engine must delete the expired row.
Everything is taken out again afterwards, so no other test sees the app.
"""

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.apps import AppConfig, apps
from django.db import connection, transaction
from django.utils.module_loading import autodiscover_modules

import qualipact
from qualipact.privacy import audit
from qualipact.privacy.registry import registry
from qualipact.retention.engine import unenforced_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
START, END = "<!-- example: start -->", "<!-- example: end -->"
# A fenced Python block whose first line names the file it belongs in.
BLOCK = re.compile(r"```python\n# qualipact/(?P<path>[\w/]+\.py)\n(?P<code>.*?)```", re.S)
APP = "feedback"
MODEL = "feedback.Feedback"


def example_files() -> dict[str, str]:
    """Path under qualipact/ -> the code the page gives for it (blocks in page order)."""
    text = DOC.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "the example markers moved"
    section = text.split(START, 1)[1].split(END, 1)[0]
    files: dict[str, str] = {}
    for match in BLOCK.finditer(section):
        files[match["path"]] = files.get(match["path"], "") + match["code"]
    return files


def test_it_finds_every_step_of_the_example_in_the_page():
    assert set(example_files()) == {
        f"{APP}/models.py",
        f"{APP}/privacy.py",
        f"{APP}/events.py",
        f"{APP}/apps.py",
        f"{APP}/services.py",
        f"{APP}/tests/test_services.py",
    }


def _app_forget() -> None:
    # The registries have no "undeclare" (an app is never removed from a running site),
    # so the test takes its app out of their state itself.
    registry._declarations.pop(MODEL, None)
    dropped = audit._RANGES.pop(APP, None)
    for member in dropped.codes if dropped is not None else ():
        audit._NAMES.pop(member.value, None)
    apps.app_configs.pop(APP, None)
    apps.all_models.pop(APP, None)
    apps.clear_cache()
    for name in [
        n for n in sys.modules if n == f"qualipact.{APP}" or n.startswith(f"qualipact.{APP}.")
    ]:
        del sys.modules[name]


@pytest.fixture
def example_app(transactional_db, tmp_path, monkeypatch) -> Iterator[ModuleType]:
    """The page's app, installed; yields the module of its tests."""
    for path, code in example_files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    for package in (tmp_path / APP, tmp_path / APP / "tests"):
        (package / "__init__.py").touch()
    monkeypatch.setattr(qualipact, "__path__", [*qualipact.__path__, str(tmp_path)])
    try:
        # What django.setup() does for an installed app, then the privacy app's ready().
        config = AppConfig.create(f"qualipact.{APP}")
        config.apps = apps
        apps.app_configs[config.label] = config
        config.import_models()
        apps.clear_cache()
        config.ready()
        autodiscover_modules("privacy")
        registry.validate()
        model = apps.get_model(MODEL)
        # The migration, for the test: SQLite's schema editor needs no open transaction.
        with connection.schema_editor() as editor:
            editor.create_model(model)
        try:
            yield __import__(f"qualipact.{APP}.tests.test_services", fromlist=["_"])
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(model)
    finally:
        _app_forget()


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_runs_the_example_as_copied_from_the_page(example_app):
    # Start-up accepted the declaration; the registry's own checks agree.
    assert registry.conformance_problems() == []
    assert unenforced_rules() == []
    assert audit.audit_code_name(1000) == "FEEDBACK_GIVEN"
    tests = [getattr(example_app, name) for name in dir(example_app) if name.startswith("test_it_")]
    assert len(tests) == 2
    for test in tests:
        # Each in a transaction rolled back afterwards, as pytest-django runs a test.
        with transaction.atomic(), transaction.atomic(using="keys"):
            test()
            transaction.set_rollback(True)
            transaction.set_rollback(True, using="keys")

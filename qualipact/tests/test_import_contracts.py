"""The import contracts in pyproject.toml (`lint-imports`, run by `make lint`) hold on the
tree, and each breaks when code crosses the line it draws."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy is analysed, not the installed package.
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy(tmp_path: Path) -> Path:
    """The package's Python files and pyproject.toml, without templates and static files."""
    shutil.copytree(
        ROOT / "qualipact",
        tmp_path / "qualipact",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "policies"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_it_keeps_every_contract_on_the_tree():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "privacy/__init__.py",
            "from qualipact.accounts import models",
            "privacy and web import no feature app BROKEN",
        ),
        (
            "web/roles.py",
            "from qualipact.rights import services",
            "privacy and web import no feature app BROKEN",
        ),
        (
            "comms/services.py",
            "from qualipact.accounts import services as account_services",
            "Feature apps import only apps below them (no cycles) BROKEN",
        ),
        (
            "offers/views.py",
            "from qualipact.consent.models import ConsentEvent",
            "offers views import no other app's models BROKEN",
        ),
    ],
)
def test_it_fails_when_an_import_crosses_a_contract(tmp_path, module, line, contract):
    copy = _copy(tmp_path)
    path = copy / "qualipact" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = _lint(copy)
    assert result.returncode != 0
    assert contract in result.stdout, result.stdout

"""The import contracts in pyproject.toml (`lint-imports`, run by `make lint`) hold on the
tree, and each breaks when code crosses the line it draws."""

import os
import shutil
import subprocess
import sys
import tomllib
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


FEATURE_APPS = sorted(
    path.parent.name
    for path in (ROOT / "qualipact").glob("*/apps.py")
    if path.parent.name not in {"privacy", "web"}
)
VIEW_MODULES = ("views", "staff_views", "api")


def test_it_has_a_views_contract_for_every_feature_app():
    """A new app's pages come under the rule with the rest: each app's view modules
    (views, staff_views, api) are the sources of one contract forbidding every other
    feature app's models, so a page cannot reach sideways into another app's tables."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    for app in FEATURE_APPS:
        package = ROOT / "qualipact" / app
        modules = {
            f"qualipact.{app}.{name}"
            for name in VIEW_MODULES
            if (package / f"{name}.py").exists() or (package / name / "__init__.py").exists()
        }
        if not modules:
            continue
        contract = next(
            (c for c in contracts if c.get("id") == f"{app}-views-no-foreign-models"), None
        )
        assert contract is not None, f"no views contract for {app}"
        assert set(contract["source_modules"]) == modules, app
        others = {f"qualipact.{other}.models" for other in FEATURE_APPS if other != app}
        assert set(contract["forbidden_modules"]) == others, app

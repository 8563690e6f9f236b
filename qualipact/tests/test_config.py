import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from qualipact import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_secret_env(monkeypatch):
    for name in config.SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def without_secrets(**extra: str) -> dict[str, str]:
    """This process's environment with no secret set (as NAME or NAME_FILE), plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if not any(k.startswith(n) for n in config.SECRET_NAMES)
    }
    env.pop("QUALIPACT_ENV", None)
    return {**env, **extra}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def tree(folder: Path) -> dict[str, int]:
    """Every path below `folder` with its modification time in nanoseconds."""
    return {str(path): path.stat().st_mtime_ns for path in folder.rglob("*")}


def test_it_generates_missing_secrets_once_into_a_private_file(tmp_path):
    path = tmp_path / "var" / "secrets.json"
    assert config.secrets_file_init(path=path) == list(config.SECRET_NAMES)
    first = json.loads(path.read_text())
    assert set(first) == set(config.SECRET_NAMES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.secrets_file_init(path=path) == []
    assert json.loads(path.read_text()) == first


def test_it_adds_a_missing_secret_without_changing_the_others(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"SECRET_KEY": "kept" * 20, "AUDIT_KEY": key()}))
    before = json.loads(path.read_text())
    assert config.secrets_file_init(path=path) == ["VAULT_MASTER_KEYS", "BLIND_INDEX_KEY"]
    after = json.loads(path.read_text())
    assert {k: after[k] for k in before} == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_it_only_reads_the_secrets_file(tmp_path, no_secret_env):
    path = tmp_path / "secrets.json"
    with pytest.raises(ImproperlyConfigured, match=r"manage\.py secrets_init"):
        config.load_secrets(production=False, local_file=path)
    assert not path.exists()
    config.secrets_file_init(path=path)
    assert config.load_secrets(production=False, local_file=path) == json.loads(path.read_text())


def test_it_imports_the_settings_without_writing_a_file_or_folder(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    run(["manage.py", "secrets_init"], without_secrets(QUALIPACT_VAR_DIR=str(var)))
    before = tree(tmp_path)
    code = "import django; django.setup(); from django.conf import settings; settings.VAR_DIR"
    env = without_secrets(QUALIPACT_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="qualipact.settings")
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert tree(tmp_path) == before
    # A folder that does not exist is not created by reading the settings either.
    missing = tmp_path / "not-there"
    secrets = {
        "SECRET_KEY": "s" * 50,
        "VAULT_MASTER_KEYS": f"k1:{key()}",
        "BLIND_INDEX_KEY": key(),
        "AUDIT_KEY": key(),
    }
    env.update(secrets, QUALIPACT_VAR_DIR=str(missing))
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert not missing.exists()


def test_it_names_the_command_when_development_has_no_secrets_file(tmp_path):
    result = run(["manage.py", "check"], without_secrets(QUALIPACT_VAR_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "Development secrets missing" in result.stderr
    assert "python manage.py secrets_init" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_it_writes_the_secrets_file_once_with_the_command(tmp_path):
    env = without_secrets(QUALIPACT_VAR_DIR=str(tmp_path / "var"))
    result = run(["manage.py", "secrets_init"], env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "var" / "secrets.json"
    assert "wrote SECRET_KEY, VAULT_MASTER_KEYS, BLIND_INDEX_KEY, AUDIT_KEY" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secrets.json"]
    first = path.read_text()
    again = run(["manage.py", "secrets_init"], env)
    assert again.returncode == 0, again.stderr
    assert "nothing written" in again.stdout
    assert path.read_text() == first
    assert run(["manage.py", "check"], env).returncode == 0


def test_it_refuses_the_secrets_command_in_production(tmp_path):
    env = without_secrets(QUALIPACT_ENV="production", QUALIPACT_VAR_DIR=str(tmp_path))
    env.update(
        SECRET_KEY="s" * 50,
        VAULT_MASTER_KEYS=f"k1:{key()}",
        BLIND_INDEX_KEY=key(),
        AUDIT_KEY=key(),
        ALLOWED_HOSTS="qualipact.example",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    result = run(["manage.py", "secrets_init"], env)
    assert result.returncode != 0
    assert "Production mode reads its secrets from NAME or NAME_FILE" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_to_start_in_production_without_secrets(tmp_path, no_secret_env):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY, VAULT_MASTER_KEYS"):
        config.load_secrets(production=True, local_file=tmp_path / "secrets.json")
    assert not (tmp_path / "secrets.json").exists()


def test_it_reads_secrets_from_files(tmp_path, no_secret_env, monkeypatch):
    values = {
        "SECRET_KEY": "s" * 50,
        "VAULT_MASTER_KEYS": f"k1:{key()}",
        "BLIND_INDEX_KEY": key(),
        "AUDIT_KEY": key(),
    }
    for name, value in values.items():
        (tmp_path / name).write_text(value + "\n")
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
    assert config.load_secrets(production=True, local_file=tmp_path / "unused") == values


def test_it_names_an_unreadable_secret_file(tmp_path, no_secret_env, monkeypatch):
    monkeypatch.setenv("AUDIT_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="AUDIT_KEY_FILE points to"):
        config.load_secrets(production=True, local_file=tmp_path / "unused")


def test_it_parses_several_master_keys_with_the_first_current():
    first, second = key(), key()
    keys = config.parse_master_keys(f"new:{first}, old:{second}")
    assert list(keys) == ["new", "old"]
    assert keys["new"] == base64.b64decode(first)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "at least one key"),
        ("nokey", "id:base64key"),
        ("a:bm90IDMyIGJ5dGVz", "32 bytes"),
        ("a:%%%", "base64"),
    ],
)
def test_it_rejects_bad_master_keys_clearly(value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        config.parse_master_keys(value)


def test_production_start_up_fails_with_a_clear_message_when_secrets_are_missing(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not any(k.startswith(n) for n in config.SECRET_NAMES)
    }
    env.update(QUALIPACT_ENV="production", QUALIPACT_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="x")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Production mode needs these secrets" in result.stderr
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.parametrize("key_id", ["has space", "x" * 33, "semi;colon"])
def test_it_rejects_master_key_ids_that_cannot_be_stored_or_audited(key_id):
    with pytest.raises(ImproperlyConfigured, match="must be 1-32 of"):
        config.parse_master_keys(f"{key_id}:{key()}")


def test_it_rejects_a_number_below_its_minimum(monkeypatch):
    monkeypatch.setenv("CONTACT_RATE_WINDOW_SECONDS", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1, got 0"):
        config.env_int("CONTACT_RATE_WINDOW_SECONDS", 600, minimum=1)


def run_production(tmp_path, code: str, **extra: str) -> subprocess.CompletedProcess:
    secrets = {
        "SECRET_KEY": "s" * 50,
        "VAULT_MASTER_KEYS": f"k1:{key()}",
        "BLIND_INDEX_KEY": key(),
        "AUDIT_KEY": key(),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG")}
    env.update(
        secrets,
        QUALIPACT_ENV="production",
        QUALIPACT_VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="qualipact.example",
    )
    env.update(extra)
    env["DJANGO_SETTINGS_MODULE"] = "qualipact.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_needs_redis(tmp_path):
    result = run_production(tmp_path, "pass")
    assert result.returncode != 0
    assert "Production mode needs REDIS_URL" in result.stderr


def test_it_refuses_debug_in_production(tmp_path):
    result = run_production(tmp_path, "pass", DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode != 0
    assert "Production mode refuses DEBUG on" in result.stderr


def test_it_refuses_production_without_allowed_hosts(tmp_path):
    result = run_production(
        tmp_path, "pass", ALLOWED_HOSTS="", REDIS_URL="redis://127.0.0.1:6379/15"
    )
    assert result.returncode != 0
    assert "Production mode needs ALLOWED_HOSTS" in result.stderr


def test_production_sends_hsts_for_a_year_and_secure_cookies(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.DEBUG)"
    )
    result = run_production(tmp_path, code, REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "False"]


def test_passwords_are_hashed_with_argon2():
    from django.contrib.auth.hashers import make_password

    assert make_password("a long enough passphrase for the test").startswith("argon2$")

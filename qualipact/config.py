"""Strict helpers that read configuration from the environment.

A bad value raises ImproperlyConfigured at start-up. Every secret can come
from NAME or from a file named by NAME_FILE. Outside production a secret that
is not set comes from `<QUALIPACT_VAR_DIR>/secrets.json`; in production a
missing secret stops start-up.

Settings only read. The development secrets file and the local folders are
written by `manage.py secrets_init` and `manage.py run_site` (through
`secrets_file_init` and `local_dirs_init` below), never at import.
"""

import base64
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import TypedDict

from django.core.exceptions import ImproperlyConfigured

MASTER_KEY_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
SECRET_NAMES = ("SECRET_KEY", "VAULT_MASTER_KEYS", "BLIND_INDEX_KEY", "AUDIT_KEY")
SECRETS_FILE_NAME = "secrets.json"
# The management commands that write the development secrets file: they must start on a
# fresh clone, before the file exists (see load_secrets).
SECRETS_WRITERS = ("secrets_init", "run_site")
BASE_DIR = Path(__file__).resolve().parent.parent
SECRETS_INIT_HINT = (
    "run `python manage.py secrets_init` (or `make run`, which does it) to generate it, "
    "or set each as NAME or NAME_FILE"
)


def env_str(name: str, default: str) -> str:
    """The variable's value; unset or empty means the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def var_dir() -> Path:
    """The folder for local state: QUALIPACT_VAR_DIR, else `var/` next to manage.py."""
    return Path(env_str("QUALIPACT_VAR_DIR", str(BASE_DIR / "var")))


def secrets_generate() -> dict[str, str]:
    """Fresh values for every secret: {name: text as NAME would hold it}."""

    def key32() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAULT_MASTER_KEYS": f"mk1:{key32()}",
        "BLIND_INDEX_KEY": key32(),
        "AUDIT_KEY": key32(),
    }


def secrets_missing_from_env() -> list[str]:
    """The secret names set neither as NAME nor as NAME_FILE, in SECRET_NAMES order."""
    return [name for name in SECRET_NAMES if not env_secret(name)]


def secrets_file_init(*, path: Path) -> list[str]:
    """Write the secrets that `path` lacks into it, with mode 0600; return their names.

    Never overwrites a value already in the file: the file is the only copy of the keys
    that protect the development data (a new master key could not unwrap the old data
    keys). Creates the parent folder. Returns [] when the file already holds every name.
    Raises ImproperlyConfigured when the existing file is not a JSON object.
    """
    stored = _secrets_file_read(path) if path.exists() else {}
    added = {k: v for k, v in secrets_generate().items() if k not in stored}
    if not added:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed over: a crash never leaves a half-written key file.
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({**stored, **added}, fh, indent=2)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return list(added)


def local_dirs_init(*, folder: Path) -> None:
    """Create the local-state folder and its `static/` (STATIC_ROOT), which WhiteNoise
    expects to exist; nothing else."""
    (folder / "static").mkdir(parents=True, exist_ok=True)


def _secrets_file_read(path: Path) -> dict[str, str]:
    try:
        with path.open() as fh:
            stored = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"{path} cannot be read as JSON: {exc}") from None
    if not isinstance(stored, dict):
        raise ImproperlyConfigured(f"{path} must hold a JSON object of secrets")
    return stored


def secrets_writer_running(argv: list[str] | None = None) -> bool:
    """Whether this process is `manage.py secrets_init` or `manage.py run_site`, the two
    commands that write the development secrets file and so start without it."""
    argv = sys.argv if argv is None else argv
    return len(argv) > 1 and argv[1] in SECRETS_WRITERS


def load_secrets(*, production: bool, local_file: Path, required: bool = True) -> dict[str, str]:
    """Every secret, from NAME, NAME_FILE or (outside production) the local file: {name: text}.

    Only reads. In production every secret must be set as NAME or NAME_FILE. In
    development a secret set neither way comes from `local_file`; when that file does not
    exist (or lacks the name), ImproperlyConfigured names the command that writes it.
    With `required=False` (the two commands that write it) the missing names are simply
    left out, and the caller loads them once written.
    """
    found = {name: value for name in SECRET_NAMES if (value := env_secret(name))}
    missing = [name for name in SECRET_NAMES if name not in found]
    if missing and production:
        raise ImproperlyConfigured(
            "Production mode needs these secrets, set as NAME or NAME_FILE: " + ", ".join(missing)
        )
    if not missing:
        return found
    local = _secrets_file_read(local_file) if local_file.exists() else {}
    absent = [name for name in missing if name not in local]
    if absent and required:
        what = "does not exist" if not local_file.exists() else "lacks " + ", ".join(absent)
        raise ImproperlyConfigured(
            f"Development secrets missing: {local_file} {what}; {SECRETS_INIT_HINT}."
        )
    found.update({name: local[name] for name in missing if name in local})
    return found


class SecretSettings(TypedDict):
    """The four secret settings, parsed: SECRET_KEY (text), VAULT_MASTER_KEYS ({id: 32
    bytes}, the first current), BLIND_INDEX_KEY and AUDIT_KEY (32 bytes each)."""

    SECRET_KEY: str
    VAULT_MASTER_KEYS: dict[str, bytes]
    BLIND_INDEX_KEY: bytes
    AUDIT_KEY: bytes


def secret_settings(found: dict[str, str]) -> SecretSettings:
    """`load_secrets`' answer parsed and checked (ImproperlyConfigured names a bad one).

    A name left out (only when a secrets writer starts before the file exists) gets an
    empty value; those two commands write the file and load the real values before any
    work (`run_site`), or never use them (`secrets_init`). Django refuses an empty
    SECRET_KEY and the vault an empty key ring in any case."""
    return {
        "SECRET_KEY": found.get("SECRET_KEY", ""),
        "VAULT_MASTER_KEYS": (
            parse_master_keys(found["VAULT_MASTER_KEYS"]) if "VAULT_MASTER_KEYS" in found else {}
        ),
        "BLIND_INDEX_KEY": (
            decode_key("BLIND_INDEX_KEY", found["BLIND_INDEX_KEY"])
            if "BLIND_INDEX_KEY" in found
            else b""
        ),
        "AUDIT_KEY": decode_key("AUDIT_KEY", found["AUDIT_KEY"]) if "AUDIT_KEY" in found else b"",
    }


def env_secret(name: str) -> str:
    """A secret from NAME, else from the file named by NAME_FILE; empty when neither."""
    if os.environ.get(name):
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {exc.strerror}"
            ) from None
    return ""


def decode_key(name: str, value: str) -> bytes:
    """Decode a base64 256-bit key, with a clear error naming the setting."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be base64") from None
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes, got {len(raw)}")
    return raw


def parse_master_keys(value: str) -> dict[str, bytes]:
    """Parse "id1:base64,id2:base64"; the first entry is the key new data keys are wrapped with."""
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("VAULT_MASTER_KEYS entries must look like 'id:base64key'")
        if not MASTER_KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"VAULT_MASTER_KEYS key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ . -"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"VAULT_MASTER_KEYS names key id {key_id!r} twice")
        keys[key_id] = decode_key(f"VAULT_MASTER_KEYS[{key_id}]", encoded)
    if not keys:
        raise ImproperlyConfigured("VAULT_MASTER_KEYS must hold at least one key")
    return keys

"""Strict helpers that read configuration from the environment.

A bad value raises ImproperlyConfigured at start-up. Every secret can come
from NAME or from a file named by NAME_FILE. In the embedded default (not
production) missing secrets are generated once into a git-ignored file with
mode 0600; in production a missing secret stops start-up.
"""

import base64
import json
import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MASTER_KEY_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
SECRET_NAMES = ("SECRET_KEY", "VAULT_MASTER_KEYS", "BLIND_INDEX_KEY", "AUDIT_KEY")


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


def _generate_secrets() -> dict[str, str]:
    def key32() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAULT_MASTER_KEYS": f"mk1:{key32()}",
        "BLIND_INDEX_KEY": key32(),
        "AUDIT_KEY": key32(),
    }


def _load_local_secrets(path: Path) -> dict[str, str]:
    """Read the generated secrets file, creating it (mode 0600) on first run."""
    if path.exists():
        with path.open() as fh:
            stored: dict[str, str] = json.load(fh)
        missing = {k: v for k, v in _generate_secrets().items() if k not in stored}
        if not missing:
            return stored
        stored.update(missing)
    else:
        stored = _generate_secrets()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(stored, fh, indent=2)
    os.chmod(path, 0o600)
    return stored


def load_secrets(*, production: bool, local_file: Path) -> dict[str, str]:
    """Return every secret, from NAME, NAME_FILE or (embedded default) the local file."""
    found = {name: value for name in SECRET_NAMES if (value := env_secret(name))}
    missing = [name for name in SECRET_NAMES if name not in found]
    if missing and production:
        raise ImproperlyConfigured(
            "Production mode needs these secrets, set as NAME or NAME_FILE: " + ", ".join(missing)
        )
    if missing:
        local = _load_local_secrets(local_file)
        for name in missing:
            found[name] = local[name]
    return found


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

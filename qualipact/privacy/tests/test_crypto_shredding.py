"""After erasure nothing of the person can be read from the database bytes.

The person's data is only ever stored as ciphertext, so no plaintext reaches the
database at all; after erasure their rows are gone, and their key with them.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connections

from conftest import PERSONAS, submit_persona
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import SubjectKey
from qualipact.privacy.services import subject_erase

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])


def database_bytes(alias: str) -> bytes:
    """Every byte the database holds: the SQLite file and its WAL, or a pg_dump."""
    connection = connections[alias]
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(settings["NAME"])
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    if connection.vendor == "postgresql":
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is needed to inspect the PostgreSQL database"
        env = dict(os.environ, PGPASSWORD=settings.get("PASSWORD") or "")
        host, port = settings["HOST"] or "127.0.0.1", str(settings["PORT"] or 5432)
        user = settings["USER"] or "postgres"
        command = [pg_dump, "-h", host, "-p", port, "-U", user, "--no-owner", settings["NAME"]]
        return subprocess.run(command, check=True, capture_output=True, env=env).stdout
    pytest.fail(f"no byte scan for database vendor {connection.vendor}")


def forms_of(text: str) -> list[bytes]:
    """The plaintext as raw bytes and as the hex a dump prints for binary columns."""
    raw = text.encode()
    return [raw, raw.hex().encode()]


def assert_absent(blob: bytes, values: list[str]) -> None:
    for value in values:
        for form in forms_of(value):
            assert form not in blob, f"plaintext {value[:12]}... found in the database bytes"


def test_no_plaintext_of_an_erased_person_remains_in_the_database():
    alice = submit_persona("alice")
    submit_persona("bob")
    secrets = [PERSONAS["alice"][k] for k in ("name", "email", "message", "phone")]
    email_index = vault.blind_index("email", PERSONAS["alice"]["email"])
    wrapped = bytes(SubjectKey.objects.using("keys").get(subject_id=alice.subject_id).wrapped_key)

    # Encryption at rest: the plaintext is never in the database, even before erasure.
    before = database_bytes("default")
    assert_absent(before, secrets)
    # Control: the scan does see Alice's rows (her blind index is stored in clear).
    assert email_index.encode() in before

    subject_erase(subject=alice.subject, actor=Actor.system("test"))

    after = database_bytes("default")
    assert_absent(after, secrets)
    assert email_index.encode() not in after
    assert not SubjectKey.objects.using("keys").filter(subject_id=alice.subject_id).exists()
    keys_blob = database_bytes("keys")
    assert wrapped not in keys_blob
    assert wrapped.hex().encode() not in keys_blob
    # Bob's data is still readable.
    from qualipact.contact.models import Inquiry

    assert Inquiry.objects.get().name == PERSONAS["bob"]["name"]

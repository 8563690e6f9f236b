"""After an erasure request made on the web pages completes, nothing of the person can be
read: not in the database bytes, not in an export made before, not in the logs; their key
is gone. Running the erasure again changes nothing."""

import io
import logging
import zipfile

import pytest
from django.urls import reverse

from conftest import PASSWORD, PERSONAS, account_for, reauthenticate, submit_persona
from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject, SubjectKey
from qualipact.privacy.tests.test_crypto_shredding import assert_absent, database_bytes
from qualipact.rights.models import DataRequest, ExportFile
from qualipact.rights.services import export_open, request_fulfil

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])

MINE = reverse("rights:mine")
SECRETS = [PERSONAS["alice"][key] for key in ("name", "email", "message", "phone")]
# The test's own SMTP server (the outside world the email went to) logs envelopes; the
# site's log records are what must stay clean.
OUTSIDE_LOGGERS = ("mail.log",)


def site_log(caplog) -> str:
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(OUTSIDE_LOGGERS)
    )


def test_it_leaves_nothing_of_an_erased_person_readable(client, smtp, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # on commit, the request is fulfilled at once
    alice = account_for("alice")
    inquiry = submit_persona("alice")
    submit_persona("bob")
    email_index = vault.blind_index("email", PERSONAS["alice"]["email"])
    wrapped = bytes(SubjectKey.objects.using("keys").get(subject_id=alice.subject_id).wrapped_key)
    assert (
        client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    )

    # An export made before the erasure, still waiting to be downloaded.
    reauthenticate(client)
    answer = client.post(MINE, {"kind": "access", "confirm_export": "on"}, follow=True)
    assert answer.status_code == 200
    export = ExportFile.objects.get()
    sealed = bytes(export.sealed)
    opened = export_open(subject=alice.subject, sealed=sealed, export_id=export.pk)
    data = zipfile.ZipFile(io.BytesIO(opened)).read("data.json").decode()
    assert all(value in data for value in SECRETS)  # control: the file holds her data
    before = database_bytes("default")
    assert email_index.encode() in before  # control: the scan sees Alice's rows

    reauthenticate(client)
    response = client.post(MINE, {"kind": "erasure", "confirm_erasure": "on"}, follow=True)
    assert response.status_code == 200, response.text
    erasure = DataRequest.objects.get(kind="erasure")
    assert erasure.status == "completed" and erasure.outcome["complete"] is True
    assert not Inquiry.objects.filter(pk=inquiry.pk).exists()
    assert any("We erased your data" in m.get_payload(decode=True).decode() for m in smtp.messages)

    # The key is gone, in the key store's bytes too.
    assert vault.is_shredded(alice.subject_id)
    assert not SubjectKey.objects.using("keys").filter(subject_id=alice.subject_id).exists()
    keys_blob = database_bytes("keys")
    assert wrapped not in keys_blob and wrapped.hex().encode() not in keys_blob
    # No plaintext in the database file and its WAL.
    after = database_bytes("default")
    assert_absent(after, SECRETS)
    assert email_index.encode() not in after
    # The export made before: its row is gone, and the sealed bytes can no longer be opened.
    assert not ExportFile.objects.filter(pk=export.pk).exists()
    assert_absent(sealed, SECRETS)
    vault.key_cache_clear()
    subject = DataSubject.objects.get(pk=alice.subject_id)
    with pytest.raises(ApplicationError):
        export_open(subject=subject, sealed=sealed, export_id=export.pk)
    # Nothing in the logs.
    log = site_log(caplog)
    assert "request_fulfil" in log  # control: the fulfilment's records were captured
    for value in SECRETS:
        assert value not in log, f"plaintext {value[:12]}... found in the logs"
    # Bob is untouched.
    assert Inquiry.objects.get().name == PERSONAS["bob"]["name"]

    # Idempotent: fulfilling the erasure again changes nothing and raises nothing.
    events = AuditEvent.objects.count()
    again = request_fulfil(request_id=erasure.pk)
    again.refresh_from_db()
    assert again.status == "completed"
    assert again.outcome == erasure.outcome and again.completed_at == erasure.completed_at
    assert AuditEvent.objects.count() == events
    assert_absent(database_bytes("default"), SECRETS)

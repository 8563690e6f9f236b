"""Requests are never lost or stuck (hardening items 7-9): exports finish whatever a person
stores (MFA included), a pending export never blocks a later request, and a request that
fails is marked failed, shown to the DPO in red, emailed to the DPOs and the person, and
never stops the reconciler from reaching the requests after it."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import OperationalError
from django.utils import timezone

from conftest import deliver_queued
from qualipact.accounts.services import children
from qualipact.accounts.tests.test_children import child_sign_up, consent_token
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import AuditEvent
from qualipact.rights import services, tasks
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, ExportFile
from qualipact.rights.services import exports, fulfil
from qualipact.rights.services.requests import MAX_AUTOMATIC_ATTEMPTS
from qualipact.rights.tests.test_dpo import dpo_grant, submit

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def data_json(request: DataRequest) -> dict:
    """data.json of the request's export, as the person would download it."""
    export = ExportFile.objects.get(request=request)
    sealed = bytes(export.sealed)
    content = exports.export_open(subject=request.subject, sealed=sealed, export_id=export.pk)
    return json.loads(zipfile.ZipFile(io.BytesIO(content)).read("data.json"))


def fields_of(document: dict, model: str) -> list[dict]:
    return [f for r in document["records"] if r["model"] == model for f in r["fields"]]


def fulfilled(subject, kind="access") -> DataRequest:
    request = submit(subject, kind)
    return fulfil.request_fulfil(request_id=request.pk)


def test_it_completes_an_export_for_a_person_with_mfa_and_withholds_the_seeds(alice_account):
    TOTP.activate(alice_account, generate_totp_secret())
    RecoveryCodes.activate(alice_account)
    done = fulfilled(alice_account.subject)
    assert done.status == DataRequest.Status.COMPLETED
    authenticators = fields_of(data_json(done), "mfa.Authenticator")
    seeds = [f for f in authenticators if f["field"] == "data"]
    assert len(seeds) == 2  # TOTP and recovery codes, listed ...
    assert all(f["value"] is None and f["withheld"] for f in seeds)  # ... never handed out


def test_it_completes_a_second_access_request_before_the_first_is_downloaded(alice_account):
    first = fulfilled(alice_account.subject)
    second = fulfilled(alice_account.subject)
    portability = fulfilled(alice_account.subject, "portability")
    assert [first.status, second.status, portability.status] == ["completed"] * 3
    earlier = fields_of(data_json(second), "rights.ExportFile")
    assert {f["field"] for f in earlier} == {"sealed", "token_hash"}
    assert all(f["value"] is None for f in earlier)


def test_a_parents_export_for_a_child_never_blocks_the_childs_own_request(alice_account):
    child = child_sign_up(parent_email="alice.marchetti@example.org")
    children.parental_consent_grant(token=consent_token(child), parent=alice_account)
    by_parent = services.request_submit(
        subject=child.subject,
        requested_by=alice_account.subject,
        kind="access",
        channel=DataRequest.Channel.PARENT,
        actor=Actor.subject(alice_account.subject_id),
    )
    assert fulfil.request_fulfil(request_id=by_parent.pk).status == "completed"
    assert fulfilled(child.subject).status == "completed"


@pytest.fixture
def dpo(staff_account):
    return dpo_grant(staff_account)


def broken_export(monkeypatch, exc: Exception):
    def fail(**kwargs):
        raise exc

    monkeypatch.setattr(fulfil, "export_build", fail)


def test_a_request_that_fails_is_marked_failed_and_the_dpos_and_the_person_are_told(
    alice_account, dpo, monkeypatch, smtp
):
    broken_export(monkeypatch, TypeError("unhashable type: 'dict' (Alice Marchetti)"))
    request = submit(alice_account.subject)
    failed = fulfil.request_fulfil(request_id=request.pk)
    assert failed.status == DataRequest.Status.FAILED
    assert failed.failure_code == "TypeError"  # the class, never the message
    event = AuditEvent.objects.get(code=RightsCode.RIGHTS_REQUEST_FAILED)
    assert event.data["failure"] == "TypeError"
    deliver_queued()
    to: dict[str, list] = {}
    for (_, recipients), message in zip(smtp.envelopes, smtp.messages, strict=True):
        to.setdefault(recipients[0], []).append(message)
    (to_dpo,) = to["stella@qualipact.example"]
    assert to_dpo["Subject"] == "A request failed and needs you"
    assert "TypeError" in to_dpo.get_payload() and "Alice" not in to_dpo.get_payload()
    assert "Your request is delayed" in [m["Subject"] for m in to["alice.marchetti@example.org"]]


def test_the_dpo_queue_shows_a_failed_request_in_red_with_its_reason(
    alice_account, dpo, client, monkeypatch
):
    broken_export(monkeypatch, ValueError("boom"))
    request = submit(alice_account.subject)
    fulfil.request_fulfil(request_id=request.pk)
    client.force_login(dpo)
    queue = client.get("/staff/rights/").text
    row = queue.split(f'data-request="{request.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "data-failed" in row and "Failed: ValueError" in row
    page = client.get(f"/staff/rights/{request.pk}/").text
    assert "data-failure" in page and "Retry fulfilment" in page


def test_the_dpo_retries_a_failed_request_and_it_completes(
    alice_account, dpo, client, monkeypatch, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    broken_export(monkeypatch, ValueError("boom"))
    request = submit(alice_account.subject)
    fulfil.request_fulfil(request_id=request.pk)
    monkeypatch.undo()
    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/rights/{request.pk}/retry/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.COMPLETED
    assert request.failure_code == ""


def test_a_transient_error_is_retried_before_the_request_is_marked_failed(
    alice_account, monkeypatch
):
    broken_export(monkeypatch, OperationalError("database is locked"))
    request = submit(alice_account.subject)
    for attempt in range(1, MAX_AUTOMATIC_ATTEMPTS):
        with pytest.raises(OperationalError):
            fulfil.request_fulfil(request_id=request.pk)
        request.refresh_from_db()
        assert (request.status, request.fulfil_attempts) == ("in_progress", attempt)
    assert fulfil.request_fulfil(request_id=request.pk).status == DataRequest.Status.FAILED


def test_the_reconciler_isolates_each_request(alice_account, bob_account, monkeypatch):
    broken = submit(alice_account.subject)
    fine = submit(bob_account.subject)
    DataRequest.objects.update(verified_at=timezone.now() - timedelta(minutes=10))
    real = fulfil.export_build

    def export_build(*, subject, **kwargs):
        if subject.pk == alice_account.subject_id:
            raise KeyError("unexpected")
        return real(subject=subject, **kwargs)

    monkeypatch.setattr(fulfil, "export_build", export_build)
    for _ in range(2):  # a second run does not trip over the failed one either
        tasks.requests_reconcile()
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, fine.status) == ("failed", "completed")
    assert OutboundEmail.objects.filter(subject=alice_account.subject).exists()

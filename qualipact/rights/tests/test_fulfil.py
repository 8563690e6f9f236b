"""The handlers that carry out verified requests (rights.services.fulfil), one by one."""

import re

import pytest

from conftest import PERSONAS, submit_persona
from qualipact.consent.events import ConsentCode
from qualipact.consent.models import Channel
from qualipact.consent.services import consent_grant
from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.purposes import PURPOSES
from qualipact.retention.services import legal_hold_place
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, ExportFile, RequestNote
from qualipact.rights.services import request_fulfil, request_note_add, request_submit

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
STAFF = Actor.staff("1")
# Art 18(2): what a restricted person's data may still be used for.
WHILE_RESTRICTED = {"legal_claims", "legal_compliance", "data_subject_rights"}


def submit(account, kind, **details) -> DataRequest:
    return request_submit(
        subject=account.subject,
        kind=kind,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(account.subject_id),
        details=details,
    )


def fresh(subject: DataSubject) -> DataSubject:
    return DataSubject.objects.get(pk=subject.pk)


def grant(account, purpose: str) -> None:
    consent_grant(
        subject=account.subject,
        purpose=purpose,
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(account.subject_id),
    )


# -- idempotence ------------------------------------------------------------------------


def test_it_erases_once_when_fulfilled_twice(
    alice_account, django_capture_on_commit_callbacks, mailoutbox
):
    submit_persona("alice")
    request = submit(alice_account, DataRequest.Kind.ERASURE)
    with django_capture_on_commit_callbacks(execute=True):
        request_fulfil(request_id=request.pk)
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = request_fulfil(request_id=request.pk)
    assert again.status == DataRequest.Status.COMPLETED
    assert AuditEvent.objects.count() == events  # nothing erased, shredded or logged again
    assert len(mailoutbox) == 1  # one receipt
    assert vault.is_shredded(alice_account.subject_id)
    assert fresh(alice_account.subject).erased_at is not None


def test_it_builds_one_export_when_fulfilled_twice(alice_account):
    request = submit(alice_account, DataRequest.Kind.ACCESS)
    request_fulfil(request_id=request.pk)
    request_fulfil(request_id=request.pk)
    assert ExportFile.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_BUILT).count() == 1


def test_it_completes_a_shred_a_crash_left_behind(alice_account):
    """The erasure committed but the worker died before the key shred: a re-run shreds."""
    request = submit(alice_account, DataRequest.Kind.ERASURE)
    request_fulfil(request_id=request.pk)  # on-commit callbacks never run in this test
    assert not vault.is_shredded(alice_account.subject_id)
    request_fulfil(request_id=request.pk)
    assert vault.is_shredded(alice_account.subject_id)
    assert (
        AuditEvent.objects.filter(
            code=EventCode.SUBJECT_KEY_SHREDDED, subject_id=alice_account.subject_id
        ).count()
        == 1
    )
    request_fulfil(request_id=request.pk)
    assert (
        AuditEvent.objects.filter(
            code=EventCode.SUBJECT_KEY_SHREDDED, subject_id=alice_account.subject_id
        ).count()
        == 1
    )


def test_it_leaves_rectification_to_a_dpo(alice_account):
    request = submit(
        alice_account, DataRequest.Kind.RECTIFICATION, correction="My name is misspelt"
    )
    assert request_fulfil(request_id=request.pk).status == DataRequest.Status.IN_PROGRESS


# -- objection, withdrawal, restriction --------------------------------------------------


def test_it_stops_marketing_at_once_and_unconditionally_on_objection(alice_account):
    grant(alice_account, "marketing")
    assert may_process(fresh(alice_account.subject), "marketing")
    request = submit(alice_account, DataRequest.Kind.OBJECTION, purpose="marketing")
    done = request_fulfil(request_id=request.pk)
    # No DPO, no weighing of grounds: completed in the same call, marketing refused.
    assert done.status == DataRequest.Status.COMPLETED
    assert done.outcome == {"objected": "marketing"}
    assert not may_process(fresh(alice_account.subject), "marketing")
    assert AuditEvent.objects.filter(
        code=ConsentCode.CONSENT_WITHDRAWN, subject_id=alice_account.subject_id
    ).exists()


def test_it_stops_only_the_named_legitimate_interest_purpose_on_objection(alice_account):
    assert may_process(fresh(alice_account.subject), "analytics")
    request = submit(alice_account, DataRequest.Kind.OBJECTION, purpose="analytics")
    assert request_fulfil(request_id=request.pk).status == DataRequest.Status.COMPLETED
    subject = fresh(alice_account.subject)
    assert not may_process(subject, "analytics")
    assert may_process(subject, "security")
    assert may_process(subject, "service_notifications")
    assert AuditEvent.objects.filter(
        code=ConsentCode.OBJECTION_RECORDED, subject_id=alice_account.subject_id
    ).exists()


def test_it_refuses_an_objection_to_a_purpose_that_is_not_objectable(alice_account):
    with pytest.raises(ApplicationError) as raised:
        submit(alice_account, DataRequest.Kind.OBJECTION, purpose="legal_compliance")
    assert raised.value.extra == {"purpose": "not_objectable"}
    assert not DataRequest.objects.exists()


def test_it_withdraws_consent_for_the_named_purposes(alice_account):
    grant(alice_account, "marketing")
    grant(alice_account, "personalised_offers")
    request = submit(
        alice_account,
        DataRequest.Kind.CONSENT_WITHDRAWAL,
        purposes=["personalised_offers", "marketing"],
    )
    done = request_fulfil(request_id=request.pk)
    assert done.outcome == {"withdrawn": ["marketing", "personalised_offers"]}
    subject = fresh(alice_account.subject)
    assert not may_process(subject, "marketing")
    assert not may_process(subject, "personalised_offers")


def test_it_refuses_to_withdraw_a_purpose_not_based_on_consent(alice_account):
    with pytest.raises(ApplicationError) as raised:
        submit(alice_account, DataRequest.Kind.CONSENT_WITHDRAWAL, purposes=["security"])
    assert raised.value.extra == {"purposes": "invalid"}


def test_it_restricts_every_purpose_but_storage_legal_claims_and_rights(alice_account):
    grant(alice_account, "marketing")
    before = {code for code in PURPOSES if may_process(fresh(alice_account.subject), code)}
    assert "marketing" in before and "service_delivery" in before
    request = submit(alice_account, DataRequest.Kind.RESTRICTION)
    done = request_fulfil(request_id=request.pk)
    assert done.outcome == {"restricted": True}
    subject = fresh(alice_account.subject)
    assert subject.restricted_at is not None
    allowed = {code for code in PURPOSES if may_process(subject, code)}
    assert allowed == WHILE_RESTRICTED
    assert {code for code, p in PURPOSES.items() if p.allowed_when_restricted} == WHILE_RESTRICTED


# -- erasure and the request log --------------------------------------------------------


def test_it_keeps_the_request_log_without_what_the_person_wrote(
    alice_account, django_capture_on_commit_callbacks, mailoutbox
):
    objection = submit(alice_account, DataRequest.Kind.OBJECTION, purpose="analytics")
    request_fulfil(request_id=objection.pk)
    erasure = request_submit(
        subject=alice_account.subject,
        kind=DataRequest.Kind.ERASURE,
        channel=DataRequest.Channel.EMAIL,
        actor=Actor.system("test"),
        details={"email": PERSONAS["alice"]["email"]},
    )
    note = request_note_add(request=erasure, text="Called to confirm by phone", actor=STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        request_fulfil(request_id=erasure.pk)

    for request in (objection, erasure):
        kept = DataRequest.objects.get(pk=request.pk)
        assert kept.details is None  # what the person wrote went with them
        assert kept.status == DataRequest.Status.COMPLETED
        assert (kept.kind, kept.received_at, kept.due_on) == (
            request.kind,
            request.received_at,
            request.due_on,
        )
        assert kept.completed_at is not None
    assert DataRequest.objects.get(pk=objection.pk).outcome == {"objected": "analytics"}
    outcome = DataRequest.objects.get(pk=erasure.pk).outcome
    assert outcome["complete"] is True
    assert "rights.DataRequest" in outcome["kept_by_law"]
    assert not RequestNote.objects.filter(pk=note.pk).exists()  # internal notes go too
    # The receipt went to the address the request came from, before the key went.
    assert [m.to for m in mailoutbox] == [[PERSONAS["alice"]["email"]]]
    receipt = mailoutbox[0].body
    assert "Requests about your data" in receipt  # kept by law, in the registry's words
    # No internal name (app.Model) in what the person reads, and no kind of data they
    # never had listed as erased.
    assert not re.search(r"\b[a-z_]+\.[A-Z][A-Za-z]+\b", receipt)
    assert "Social accounts" not in receipt and "Parental consents" not in receipt


def test_it_keeps_what_a_legal_hold_covers_and_says_why(
    alice_account, django_capture_on_commit_callbacks, mailoutbox
):
    submit_persona("alice")
    legal_hold_place(
        subject=alice_account.subject,
        basis="legal_claims",
        actor=STAFF,
        models_held=["contact.Inquiry"],
    )
    request = submit(alice_account, DataRequest.Kind.ERASURE)
    with django_capture_on_commit_callbacks(execute=True):
        done = request_fulfil(request_id=request.pk)
    assert done.status == DataRequest.Status.COMPLETED
    assert done.outcome["complete"] is False
    assert "legal claims" in done.outcome["kept"]["contact.Inquiry"]
    assert "contact.Inquiry" not in done.outcome["erased"]
    assert Inquiry.objects.filter(subject=alice_account.subject).count() == 1
    assert not vault.is_shredded(alice_account.subject_id)  # the kept data stays readable
    assert "What we must keep for now, and why" in mailoutbox[0].body

"""The request workflow (rights.services.requests) and its periodic jobs (the reminders in
rights.services.reminders): statuses and the emails that announce them, deadlines and
extensions, the 24-month log."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from conftest import PERSONAS, account_for, deliver_queued, run_deferred
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.registry import registry
from qualipact.retention.engine import retention_sweep
from qualipact.retention.services import legal_hold_place
from qualipact.rights.deadlines import Regime, add_business_days, add_months, deadlines_for
from qualipact.rights.models import DataRequest, ExportFile, RequestNote
from qualipact.rights.privacy import REQUEST_LOG_RETENTION
from qualipact.rights.services import (
    deadline_reminders,
    request_by_email,
    request_complete,
    request_extend,
    request_fulfil,
    request_note_add,
    request_refuse,
    request_resume,
    request_submit,
    request_verify,
    request_wait_on_person,
)

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
STAFF = Actor.staff("1")
ALICE = PERSONAS["alice"]["email"]


def submit(account, kind=DataRequest.Kind.ACCESS, **extra) -> DataRequest:
    return request_submit(
        subject=account.subject,
        kind=kind,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(account.subject_id),
        **extra,
    )


def sent(smtp) -> list[tuple[str, str, str]]:
    """What reached the mail server, in the order the emails were queued."""
    order = {
        message_id: n
        for n, message_id in enumerate(
            OutboundEmail.objects.order_by("created_at").values_list("message_id", flat=True)
        )
    }
    deliver_queued()
    messages = sorted(smtp.messages, key=lambda m: order.get(m["Message-ID"], -1))
    return [(m["To"], m["Subject"], m.get_payload()) for m in messages]


def received_days_ago(request: DataRequest, days: int) -> DataRequest:
    """Move a request's receipt into the past, with the due date that goes with it."""
    received = timezone.now() - timedelta(days=days)
    dates = deadlines_for(timezone.localdate(received), Regime(request.regime))
    DataRequest.objects.filter(pk=request.pk).update(received_at=received, due_on=dates.due)
    return DataRequest.objects.get(pk=request.pk)


# -- emails at each change ----------------------------------------------------------------


def test_it_emails_the_person_when_a_request_is_received(smtp, alice_account):
    request = submit(alice_account)
    [(to, subject, body)] = sent(smtp)
    assert (to, subject) == (ALICE, "We received your request")
    assert request.due_on.isoformat() in body
    assert str(request.pk) in body


def test_it_emails_the_person_when_a_request_is_completed(smtp, alice_account):
    request = submit(alice_account, DataRequest.Kind.OBJECTION, details={"purpose": "analytics"})
    request_fulfil(request_id=request.pk)
    subjects = [subject for _, subject, _ in sent(smtp)]
    assert subjects == ["We received your request", "Your request is complete"]
    assert "Aggregated analytics" in sent(smtp)[-1][2]


def test_it_emails_a_refusal_with_reasons_and_the_right_to_complain(smtp, alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    refused = request_refuse(
        request=request,
        basis=DataRequest.RefusalBasis.EXCESSIVE,
        reason="The same request was answered last week.",
        actor=STAFF,
    )
    assert refused.status == DataRequest.Status.REFUSED
    assert refused.completed_at is not None
    _, subject, body = sent(smtp)[-1]
    assert subject == "We cannot do what you asked"
    assert "The same request was answered last week." in body
    assert "excessive" in body
    assert "supervisory authority" in body


def test_it_refuses_a_refusal_without_reasons_or_basis(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    with pytest.raises(ApplicationError) as raised:
        request_refuse(request=request, basis="excessive", reason="  ", actor=STAFF)
    assert raised.value.extra == {"reason": "empty"}
    with pytest.raises(ApplicationError) as raised:
        request_refuse(request=request, basis="because", reason="No.", actor=STAFF)
    assert raised.value.extra == {"basis": "unknown"}
    assert DataRequest.objects.get(pk=request.pk).status == DataRequest.Status.IN_PROGRESS


def test_it_emails_when_waiting_on_the_person_and_when_resuming(smtp, alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    waiting = request_wait_on_person(
        request=request, note="Which address should we correct?", actor=STAFF
    )
    assert waiting.status == DataRequest.Status.WAITING_ON_PERSON
    assert request_resume(request=request, actor=STAFF).status == DataRequest.Status.IN_PROGRESS
    emails = sent(smtp)
    assert [subject for _, subject, _ in emails] == [
        "We received your request",
        "We need something from you",
        "Your request is in progress",
    ]
    assert "Which address should we correct?" in emails[1][2]


def test_it_refuses_to_change_a_closed_request(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    request_complete(request=request, actor=STAFF, outcome={"corrected": []})
    for change in (
        lambda: request_refuse(request=request, basis="excessive", reason="No.", actor=STAFF),
        lambda: request_wait_on_person(request=request, note="?", actor=STAFF),
        lambda: request_extend(
            request=request, new_due_on=request.due_on + timedelta(days=5), reason="x", actor=STAFF
        ),
    ):
        with pytest.raises(ApplicationError) as raised:
            change()
        assert raised.value.extra == {"status": "completed"}


# -- extensions ---------------------------------------------------------------------------


def test_it_extends_once_with_reasons_emailed_to_the_person(smtp, alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    new_due = add_months(timezone.localdate(request.received_at), 3)
    extended = request_extend(
        request=request, new_due_on=new_due, reason="We must ask two processors.", actor=STAFF
    )
    assert extended.extended_due_on == new_due
    assert extended.effective_due_on == new_due
    assert extended.extension_notified_at is not None
    _, subject, body = sent(smtp)[-1]
    assert subject == "We need more time for your request"
    assert "We must ask two processors." in body
    assert new_due.isoformat() in body
    with pytest.raises(ApplicationError) as raised:
        request_extend(request=request, new_due_on=new_due, reason="Again.", actor=STAFF)
    assert raised.value.extra == {"extension": "used"}


def test_it_refuses_an_extension_beyond_three_months(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    too_far = add_months(timezone.localdate(request.received_at), 3) + timedelta(days=1)
    with pytest.raises(ApplicationError) as raised:
        request_extend(request=request, new_due_on=too_far, reason="Busy.", actor=STAFF)
    assert raised.value.extra == {"new_due_on": "out_of_range"}
    assert "no later than" in raised.value.message
    assert DataRequest.objects.get(pk=request.pk).extended_due_on is None


def test_it_refuses_an_extension_that_does_not_move_the_date_on(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    with pytest.raises(ApplicationError) as raised:
        request_extend(request=request, new_due_on=request.due_on, reason="Busy.", actor=STAFF)
    assert raised.value.extra == {"new_due_on": "out_of_range"}


def test_it_refuses_an_extension_after_the_first_month(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    request = received_days_ago(request, 40)  # the month is over
    new_due = add_months(timezone.localdate(request.received_at), 2)
    with pytest.raises(ApplicationError) as raised:
        request_extend(request=request, new_due_on=new_due, reason="Busy.", actor=STAFF)
    assert raised.value.extra == {"new_due_on": "out_of_range"}
    assert f"set before {request.due_on}" in raised.value.message


def test_it_refuses_an_extension_without_reasons(alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    with pytest.raises(ApplicationError) as raised:
        request_extend(
            request=request, new_due_on=request.due_on + timedelta(days=9), reason="", actor=STAFF
        )
    assert raised.value.extra == {"reason": "empty"}


# -- deadlines ------------------------------------------------------------------------------


def test_it_gives_a_gdpr_request_one_calendar_month(alice_account):
    request = submit(alice_account)
    assert request.regime == DataRequest.Regime.GDPR
    assert request.due_on == add_months(timezone.localdate(request.received_at), 1)


def test_it_gives_a_californian_request_45_days(alice_account):
    request = submit(alice_account, regime=DataRequest.Regime.CCPA)
    assert request.due_on == timezone.localdate(request.received_at) + timedelta(days=45)
    assert request.acknowledged_at is not None  # verified at once: acknowledged at once


def test_it_acknowledges_a_californian_request_by_email_when_it_is_verified(alice_account):
    ticket = request_by_email(email=ALICE, kind=DataRequest.Kind.ACCESS, regime=Regime.CCPA)
    run_deferred()  # the worker finds the address and sends the code
    request = DataRequest.objects.get()
    assert request.status == DataRequest.Status.VERIFYING
    assert request.acknowledged_at is None
    code = re.search(r"Your code is (\d{6})", OutboundEmail.objects.get().body).group(1)
    verified = request_verify(ticket=ticket, code=code)
    assert verified.status == DataRequest.Status.IN_PROGRESS
    received = timezone.localdate(request.received_at)
    assert verified.due_on == received + timedelta(days=45)
    acknowledge_by = deadlines_for(received, Regime.CCPA).acknowledge_by
    assert acknowledge_by == add_business_days(received, 10)
    assert verified.acknowledged_at is not None
    assert timezone.localdate(verified.acknowledged_at) <= acknowledge_by


# -- the 24-month request log -----------------------------------------------------------


def test_it_reads_the_log_retention_from_the_registry():
    declaration = registry.get(DataRequest)
    assert declaration is not None
    assert declaration.retention_rules == (REQUEST_LOG_RETENTION,)
    rule = REQUEST_LOG_RETENTION
    assert (rule.after, rule.period) == ("received_at", timedelta(days=730))


def request_log_sweep() -> int:
    return retention_sweep(model="rights.DataRequest")[0].done


def test_it_deletes_requests_past_24_months_with_their_notes_and_exports(alice_account):
    old = submit(alice_account)
    request_fulfil(request_id=old.pk)  # an export row
    request_note_add(request=old, text="Answered by post as well", actor=STAFF)
    old = received_days_ago(old, 731)
    recent = submit(alice_account, DataRequest.Kind.OBJECTION, details={"purpose": "analytics"})
    request_fulfil(request_id=recent.pk)
    recent = received_days_ago(recent, 729)

    assert request_log_sweep() == 1
    assert list(DataRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not RequestNote.objects.exists()
    assert not ExportFile.objects.exists()
    assert request_log_sweep() == 0


def test_it_keeps_old_requests_that_are_open_or_under_a_legal_hold(alice_account, bob_account):
    open_request = submit(
        alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"}
    )
    received_days_ago(open_request, 800)
    held = submit(bob_account, DataRequest.Kind.OBJECTION, details={"purpose": "analytics"})
    request_fulfil(request_id=held.pk)
    received_days_ago(held, 800)
    legal_hold_place(
        subject=bob_account.subject,
        basis="legal_claims",
        actor=STAFF,
        models_held=["rights.DataRequest"],
    )
    assert request_log_sweep() == 0
    assert DataRequest.objects.count() == 2


# -- reminders to the DPOs -------------------------------------------------------------


@pytest.fixture
def dpo():
    staff = account_for("bob", is_staff=True)
    staff.groups.add(Group.objects.get_or_create(name="DPO")[0])
    return staff


def test_it_reminds_the_dpos_of_requests_due_within_three_days(
    smtp, dpo, staff_account, alice_account
):
    today = timezone.localdate()
    due_soon = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    overdue = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "y"})
    later = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "z"})
    extended = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "w"})
    DataRequest.objects.filter(pk=due_soon.pk).update(due_on=today + timedelta(days=3))
    DataRequest.objects.filter(pk=overdue.pk).update(due_on=today - timedelta(days=1))
    DataRequest.objects.filter(pk=later.pk).update(due_on=today + timedelta(days=4))
    DataRequest.objects.filter(pk=extended.pk).update(
        due_on=today + timedelta(days=1), extended_due_on=today + timedelta(days=30)
    )
    OutboundEmail.objects.all().delete()  # the "received" emails

    assert deadline_reminders(today=today) == 1
    [(to, subject, body)] = sent(smtp)  # to the DPO; other staff are not told
    assert to == PERSONAS["bob"]["email"]
    assert subject == "Requests due within 3 days: 2"
    assert str(due_soon.pk) in body and str(overdue.pk) in body
    assert str(later.pk) not in body and str(extended.pk) not in body
    assert f"OVERDUE since {today - timedelta(days=1)}" in body
    assert ALICE not in body  # references and dates only


def test_it_sends_no_reminder_when_nothing_is_due(dpo, alice_account):
    submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    OutboundEmail.objects.all().delete()
    assert deadline_reminders(today=date.today()) == 0
    assert not OutboundEmail.objects.exists()


def test_it_refuses_to_resume_a_request_that_is_not_waiting(smtp, alice_account):
    request = submit(alice_account, DataRequest.Kind.RECTIFICATION, details={"correction": "x"})
    before = len(sent(smtp))
    with pytest.raises(ApplicationError):
        request_resume(request=request, actor=STAFF)
    assert len(sent(smtp)) == before  # the person is not told again

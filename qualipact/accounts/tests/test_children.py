"""Children below the age threshold: the parent's consent (email-plus), the sweep, deletion."""

import hashlib
import re
from datetime import date, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from conftest import deliver_queued, run_deferred
from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import ParentalConsent, User
from qualipact.accounts.services import (
    account_create,
    account_email_change_confirm,
    account_sign_up,
    children,
)
from qualipact.comms import tasks as comms_tasks
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject, ShredRecord, SubjectIdentifier
from qualipact.privacy.selectors import subject_collect
from qualipact.retention.events import RetentionCode

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
PARENT_EMAIL = "pat.parent@example.org"
CHILD_EMAIL = "kim.child@example.org"
CONSENT_LINK = re.compile(r"(https?://[^\s]+)/accounts/parent/consent/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Queued emails stay in the outbox; tests deliver them with deliver_queued()."""
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


@pytest.fixture
def parent():
    return account_create(
        username="pat", email=PARENT_EMAIL, password=PASSWORD, email_verified=True
    )


def child_sign_up(username="kim", email=CHILD_EMAIL, parent_email=PARENT_EMAIL) -> User:
    result = account_sign_up(
        username=username,
        email=email,
        password=PASSWORD,
        child_until=timezone.localdate() + timedelta(days=400),
        parent_email=parent_email,
    )
    assert result.user is not None and result.child
    return result.user


def consent_token(child: User) -> str:
    for email in OutboundEmail.objects.filter(subject=child.subject):
        if match := CONSENT_LINK.search(email.body):
            return match.group(2)
    raise AssertionError("no consent link was queued")


@pytest.fixture
def child():
    return child_sign_up()


@pytest.fixture
def linked_child(child, parent):
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    child.refresh_from_db()
    return child


def codes(subject_id) -> list[int]:
    return list(AuditEvent.objects.filter(subject_id=subject_id).values_list("code", flat=True))


def assert_nothing_left(subject_id, *plaintexts: str) -> None:
    """The child's rows are gone, the key shredded, and no plaintext stored anywhere."""
    subject = DataSubject.objects.get(pk=subject_id)
    assert subject.erased_at is not None
    assert not User.objects.filter(subject_id=subject_id).exists()
    assert not ParentalConsent.objects.filter(subject_id=subject_id).exists()
    assert not OutboundEmail.objects.filter(subject_id=subject_id).exists()
    assert not SubjectIdentifier.objects.filter(subject_id=subject_id).exists()
    assert subject_collect(subject).records == []
    assert ShredRecord.objects.filter(subject_id=subject_id).exists()
    for alias in ("default", "keys"):
        with connections[alias].cursor() as cursor:
            tables = connections[alias].introspection.table_names(cursor)
            for table in tables:
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
                dump = repr(cursor.fetchall())
                for text in plaintexts:
                    assert text not in dump, f"{text!r} left in {alias}.{table}"


def test_it_requests_consent_storing_only_a_hash_of_the_link_token(child):
    consent = ParentalConsent.objects.get(subject=child.subject)
    token = consent_token(child)
    assert consent.status == ParentalConsent.Status.REQUESTED
    assert consent.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(ParentalConsent.objects.values().get())
    assert consent.parent_email == PARENT_EMAIL
    days = (consent.expires_at - timezone.now()).total_seconds() / 86400
    assert 6.99 < days <= 7
    assert child.status == User.Status.AWAITING_PARENT
    assert AccountsCode.PARENTAL_CONSENT_REQUESTED in codes(child.subject_id)


def test_it_emails_the_parent_a_link_explaining_what_is_collected(child, smtp):
    deliver_queued()
    to_parent = [m for m in smtp.messages if m["To"] == PARENT_EMAIL]
    assert len(to_parent) == 1
    body = to_parent[0].get_payload(decode=True).decode()
    match = CONSENT_LINK.search(body)
    assert match and match.group(1) == "http://127.0.0.1:8000"
    assert "username kim" in body
    assert "email address" in body and "no location" in body and "no marketing" in body
    assert "7 days" in body


def test_it_keeps_a_pending_child_from_signing_in(client, child):
    User.objects.filter(pk=child.pk).update(email_verified_at=timezone.now())
    response = client.post("/accounts/login/", {"login": "kim", "password": PASSWORD})
    assert response.status_code == 403
    assert 'data-not-ready="parent"' in response.text
    assert "_auth_user_id" not in client.session


def test_it_lets_the_child_sign_in_once_a_parent_consented(client, linked_child):
    User.objects.filter(pk=linked_child.pk).update(email_verified_at=timezone.now())
    response = client.post("/accounts/login/", {"login": "kim", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(linked_child.pk)


def test_it_grants_consent_linking_the_parent_and_activating_the_child(child, parent):
    token = consent_token(child)
    consent = children.parental_consent_grant(token=token, parent=parent)
    child.refresh_from_db()
    assert child.status == User.Status.ACTIVE
    assert consent.status == ParentalConsent.Status.GRANTED
    assert consent.parent == parent
    assert consent.confirmation_due_at - consent.granted_at == timedelta(hours=24)
    assert AccountsCode.PARENTAL_CONSENT_GRANTED in codes(child.subject_id)
    assert children.children_of(parent) == [child]
    # The link is single-use.
    with pytest.raises(children.ConsentLinkInvalid):
        children.parental_consent_grant(token=token, parent=parent)


@pytest.mark.parametrize("who", ["the_child", "unverified", "another_child", "unknown_token"])
def test_it_refuses_consent_from_anyone_but_a_verified_adult(child, who):
    token = consent_token(child)
    if who == "the_child":
        who_consents = child
    elif who == "unverified":
        who_consents = account_create(username="ulla", email="ulla@example.org", password=PASSWORD)
    elif who == "another_child":
        other = child_sign_up(username="otto", email="otto@example.org")
        children.parental_consent_grant(
            token=consent_token(other),
            parent=account_create(
                username="oma", email="oma@example.org", password=PASSWORD, email_verified=True
            ),
        )
        who_consents = User.objects.get(pk=other.pk)
    else:
        token = "not-a-token"
        who_consents = account_create(
            username="vera", email="vera@example.org", password=PASSWORD, email_verified=True
        )
    with pytest.raises(ApplicationError):
        children.parental_consent_grant(token=token, parent=who_consents)
    child.refresh_from_db()
    assert child.status == User.Status.AWAITING_PARENT


def test_it_sends_the_delayed_confirmation_to_the_parent_once(linked_child, smtp):
    deliver_queued()
    smtp.messages.clear()
    assert children.parental_confirmations_send() == 0  # not due yet

    ParentalConsent.objects.filter(subject=linked_child.subject).update(
        confirmation_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert children.parental_confirmations_send() == 1
    assert children.parental_confirmations_send() == 0
    deliver_queued()
    assert [m["To"] for m in smtp.messages] == [PARENT_EMAIL]
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "you consented" in body and "If this was not you" in body
    assert f"/accounts/children/{linked_child.pk}/" in body
    assert codes(linked_child.subject_id).count(AccountsCode.PARENTAL_CONFIRMATION_SENT) == 1
    consent = ParentalConsent.objects.get(subject=linked_child.subject)
    assert consent.confirmation_sent_at is not None


def test_it_purges_a_pending_child_when_the_consent_window_passes(
    child, django_capture_on_commit_callbacks
):
    token = consent_token(child)
    assert _expired_requests_swept() == 0
    ParentalConsent.objects.filter(subject=child.subject).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _expired_requests_swept() == 1
    assert EventCode.SUBJECT_ERASED in codes(child.subject_id)
    swept = AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).latest("id")
    assert swept.data["model"] == "accounts.ParentalConsent" and swept.data["rows"] == 1
    assert_nothing_left(child.subject_id, CHILD_EMAIL, PARENT_EMAIL)
    with pytest.raises(children.ConsentLinkInvalid):
        children.parental_consent_for_token(token)


def _expired_requests_swept() -> int:
    """People erased by the retention rule for requests a parent never answered."""
    from qualipact.retention.engine import retention_sweep

    results = retention_sweep(model="accounts.ParentalConsent")
    return sum(r.done for r in results if r.action == "erase_subject")


def test_it_keeps_a_pending_child_whose_window_is_still_open(child):
    assert _expired_requests_swept() == 0
    assert User.objects.filter(pk=child.pk).exists()


def test_it_refuses_an_expired_link_before_the_sweep_ran(child, parent):
    ParentalConsent.objects.filter(subject=child.subject).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(children.ConsentLinkInvalid):
        children.parental_consent_grant(token=consent_token(child), parent=parent)


def test_it_deletes_the_childs_data_when_the_parent_withdraws_consent(
    linked_child, parent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        children.parental_consent_withdraw(parent=parent, child=linked_child)
    assert AccountsCode.PARENTAL_CONSENT_WITHDRAWN in codes(linked_child.subject_id)
    assert_nothing_left(linked_child.subject_id, CHILD_EMAIL, PARENT_EMAIL)
    assert User.objects.filter(pk=parent.pk).exists()
    assert children.children_of(parent) == []


def test_it_deletes_the_childs_account_for_the_parent(
    linked_child, parent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        children.child_account_delete(parent=parent, child=linked_child)
    assert AccountsCode.CHILD_ACCOUNT_DELETED in codes(linked_child.subject_id)
    assert_nothing_left(linked_child.subject_id, CHILD_EMAIL, PARENT_EMAIL)


def test_it_deletes_the_pending_account_when_the_link_holder_declines(
    child, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        children.parental_consent_decline(token=consent_token(child))
    assert_nothing_left(child.subject_id, CHILD_EMAIL, PARENT_EMAIL)


def test_it_lets_the_parent_correct_the_username_and_ask_for_a_new_address(linked_child, parent):
    children.child_data_correct(
        parent=parent, child=linked_child, username="kim-b", email="kim.b@example.org"
    )
    run_deferred()
    child = User.objects.get(pk=linked_child.pk)
    assert child.username == "kim-b"
    # The address changes only when the child follows the link sent to the new one.
    assert child.email == CHILD_EMAIL and child.pending_email == "kim.b@example.org"
    event = AuditEvent.objects.get(
        subject_id=child.subject_id, code=AccountsCode.CHILD_DATA_CORRECTED
    )
    assert event.data == {"fields": ["username", "email"]}
    [confirm] = [e for e in OutboundEmail.objects.all() if e.to == "kim.b@example.org"]
    token = re.search(r"/accounts/email/confirm/([^/\s]+)/", confirm.body).group(1)
    account_email_change_confirm(token=token)
    child.refresh_from_db()
    assert child.email == "kim.b@example.org" and child.pending_email is None


def test_it_refuses_a_taken_username(linked_child, parent):
    with pytest.raises(ApplicationError):
        children.child_data_correct(parent=parent, child=linked_child, username="PAT")
    assert User.objects.get(pk=linked_child.pk).username == "kim"


def test_it_answers_a_correction_to_a_taken_address_as_any_and_tells_that_address(
    linked_child, parent
):
    children.child_data_correct(parent=parent, child=linked_child, email=PARENT_EMAIL.upper())
    run_deferred()
    child = User.objects.get(pk=linked_child.pk)
    assert child.email == CHILD_EMAIL and child.pending_email is None
    [explained] = [
        e
        for e in OutboundEmail.objects.all()
        if e.to.lower() == PARENT_EMAIL and e.subject_line.startswith("Your address was given")
    ]
    assert "/accounts/email/confirm/" not in explained.body


def test_it_exports_every_stored_field_but_withholds_credentials(linked_child, parent):
    document = children.child_data_export(parent=parent, child=linked_child)
    fields = {
        (record["model"], field["field"]): field
        for record in document["records"]
        for field in record["fields"]
    }
    values = {key: field["value"] for key, field in fields.items()}
    assert values[("accounts.User", "username")] == "kim"
    assert values[("accounts.User", "email")] == CHILD_EMAIL
    assert values[("accounts.ParentalConsent", "parent_email")] == PARENT_EMAIL
    # Every secret the registry declares is listed, never handed out.
    for key in [("accounts.User", "password"), ("accounts.User", "email_index")]:
        assert values[key] is None and "never shown" in fields[key]["withheld"]
    assert linked_child.password not in repr(document)
    assert AccountsCode.CHILD_DATA_DOWNLOADED in codes(linked_child.subject_id)

    children.child_data_view(parent=parent, child=linked_child)
    assert AccountsCode.CHILD_DATA_VIEWED in codes(linked_child.subject_id)


def test_it_refuses_every_child_service_to_another_parent(linked_child):
    stranger = account_create(
        username="sam", email="sam@example.org", password=PASSWORD, email_verified=True
    )
    for service in (children.child_data_view, children.child_data_export):
        with pytest.raises(ApplicationError):
            service(parent=stranger, child=linked_child)
    for service in (children.child_account_delete, children.parental_consent_withdraw):
        with pytest.raises(ApplicationError):
            service(parent=stranger, child=linked_child)
    with pytest.raises(ApplicationError):
        children.child_data_correct(parent=stranger, child=linked_child, username="taken-over")
    assert User.objects.get(pk=linked_child.pk).username == "kim"


def test_it_erases_an_account_staff_find_to_belong_to_a_child(
    django_capture_on_commit_callbacks,
):
    account = account_create(
        username="young", email="young@example.org", password=PASSWORD, email_verified=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert children.underage_mark(
            account=account, actor=Actor.staff("1"), reason="parent_report"
        )
    assert AccountsCode.UNDERAGE_ACCOUNT_ERASED in codes(account.subject_id)
    assert_nothing_left(account.subject_id, "young@example.org")


def test_it_keeps_a_child_whose_parent_consented_when_staff_mark_it(linked_child):
    assert not children.underage_mark(
        account=linked_child, actor=Actor.staff("1"), reason="parent_report"
    )
    assert User.objects.filter(pk=linked_child.pk).exists()


def test_it_erases_an_account_whose_corrected_birth_date_shows_a_child(
    django_capture_on_commit_callbacks,
):
    account = account_create(
        username="teen", email="teen@example.org", password=PASSWORD, email_verified=True
    )
    today = timezone.localdate()
    # Fifteen in Germany (threshold 16) is a child; fifteen in Austria (14) is not.
    fifteen = date(today.year - 15, 1, 1)
    assert children.birth_date_correct(account=account, birth_date=fifteen, country="AT") is False
    assert User.objects.filter(pk=account.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert children.birth_date_correct(account=account, birth_date=fifteen, country="DE")
    assert AccountsCode.UNDERAGE_ACCOUNT_ERASED in codes(account.subject_id)
    assert_nothing_left(account.subject_id, "teen@example.org")

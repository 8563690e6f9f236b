"""Pages a child's account reaches answer without storing anything a child may not have."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD, PERSONAS, account_for, deliver_queued, run_deferred
from qualipact.accounts.models import ParentalConsent, Preferences, User
from qualipact.accounts.services import account_create, account_delete
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import ShredRecord

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture
def child():
    return account_create(
        username="kid",
        email="kid@example.com",
        password=PASSWORD,
        email_verified=True,
        child_until=timezone.localdate() + timedelta(days=400),
    )


def test_a_child_sees_a_preferences_page_that_stores_nothing(client, child):
    client.force_login(child)
    response = client.get("/accounts/preferences/")
    assert response.status_code == 200
    assert "data-child" in response.text
    assert not Preferences.objects.filter(subject=child.subject).exists()


def test_a_childs_privacy_choices_offer_no_consent(client, child):
    client.force_login(child)
    response = client.get("/preferences/")
    assert response.status_code == 200
    assert "data-child" in response.text
    assert 'value="grant"' not in response.text


def test_a_message_from_a_childs_address_is_not_kept_and_the_page_answers_as_usual(
    client, child, smtp
):
    form = dict(PERSONAS["alice"], email="kid@example.com", kind="general")
    response = client.post("/contact/", form)
    assert response.status_code == 303
    assert response["Location"] == "/contact/thanks/?general=1"
    deliver_queued()  # the worker's part, then the outbox
    assert not Inquiry.objects.exists()
    assert smtp.messages[-1]["Subject"] == "We could not keep your message"
    assert smtp.messages[-1]["To"] == "kid@example.com"


def test_deleting_a_parents_account_deletes_the_children_they_consented_for(
    child, django_capture_on_commit_callbacks
):
    parent = account_for("alice")
    ParentalConsent.objects.create(
        subject=child.subject,
        parent_email=PERSONAS["alice"]["email"],
        parent=parent,
        status=ParentalConsent.Status.GRANTED,
        token_hash="x" * 64,
        expires_at=timezone.now(),
        granted_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=parent, actor=Actor.subject(parent.subject_id))
    assert not User.objects.filter(pk__in=[parent.pk, child.pk]).exists()
    assert ShredRecord.objects.filter(subject_id=child.subject_id).exists()


def test_forms_that_mail_a_typed_address_are_rate_limited(client, settings):
    from qualipact.comms.models import OutboundEmail

    settings.ACCOUNT_MAIL_RATE_LIMIT = 2
    for n in range(2):  # two different addresses: each a new submission
        response = client.post("/accounts/password/reset/", {"email": f"x{n}@example.com"})
        assert response.status_code == 303
    response = client.post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert response.status_code == 429
    assert "data-rate-limited" in response.text
    assert client.post("/accounts/verify/resend/", {"email": "x@example.com"}).status_code == 429
    assert client.post("/accounts/signup/details/", {"age": "x"}).status_code == 429
    run_deferred()
    assert not OutboundEmail.objects.exists()


def test_a_parent_sees_the_childs_requests_but_not_a_dpos_notes(child):
    from qualipact.accounts.services import child_data_view
    from qualipact.rights.models import DataRequest
    from qualipact.rights.services import request_note_add, request_submit

    parent = account_for("alice")
    ParentalConsent.objects.create(
        subject=child.subject,
        parent_email=PERSONAS["alice"]["email"],
        parent=parent,
        status=ParentalConsent.Status.GRANTED,
        token_hash="y" * 64,
        expires_at=timezone.now(),
        granted_at=timezone.now(),
    )
    request = request_submit(
        subject=child.subject,
        requested_by=parent.subject,
        kind="access",
        channel=DataRequest.Channel.PARENT,
        actor=Actor.subject(parent.subject_id),
    )
    request_note_add(request=request, text="Internal: ask legal.", actor=Actor.staff("7"))
    shown = child_data_view(parent=parent, child=child).as_dict()
    models = {record["model"] for record in shown["records"]}
    assert "rights.DataRequest" in models
    assert "rights.RequestNote" not in models
    assert "Internal: ask legal." not in str(shown)

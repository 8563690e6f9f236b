import pytest
from django.urls import reverse

from conftest import PERSONAS, run_deferred
from qualipact.contact.events import ContactCode
from qualipact.contact.models import Inquiry
from qualipact.privacy.models import AuditEvent, DataSubject

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
URL = reverse("contact:inquiry")


def form_data(**changes) -> dict:
    data = {"kind": "general", "website": "", **PERSONAS["alice"]}
    data.update(changes)
    return data


def test_it_shows_the_form_without_setting_a_cookie(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.cookies == {}
    assert 'name="message"' in response.text
    assert "no-store" in response["Cache-Control"]


def test_it_preselects_the_dpo_kind_from_the_link(client):
    response = client.get(URL, {"kind": "privacy"})
    assert '<option value="privacy" selected>' in response.text


def test_it_stores_a_valid_inquiry_encrypted_and_confirms(client):
    response = client.post(URL, form_data(kind="complaint"))
    assert response.status_code == 303
    assert response["Location"] == reverse("contact:thanks") + "?complaint=1"
    assert response.cookies == {}
    run_deferred()  # the worker stores it, seconds later
    inquiry = Inquiry.objects.get()
    assert inquiry.kind == "complaint"
    assert inquiry.message == PERSONAS["alice"]["message"]
    assert inquiry.postal_address == PERSONAS["alice"]["postal_address"]
    raw = Inquiry.objects.values_list("name", flat=True).get()
    assert PERSONAS["alice"]["name"].encode() not in raw
    event = AuditEvent.objects.get(code=ContactCode.INQUIRY_SUBMITTED)
    assert event.subject_id == inquiry.subject_id
    assert event.purpose == "data_subject_rights"
    thanks = client.get(response["Location"])
    assert "Thank you, we have your message" in thanks.text


def test_it_reuses_the_person_known_by_the_same_email(client):
    client.post(URL, form_data())
    client.post(URL, form_data(email="ALICE.Marchetti@example.org", subject_line="Again"))
    run_deferred()
    assert Inquiry.objects.count() == 2
    assert DataSubject.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"name": ""}, "name", "This field is required."),
        ({"message": "short"}, "message", "Please write at least 10 characters."),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number using digits"),
        ({"kind": "sales"}, "kind", "Select a valid choice."),
    ],
)
def test_it_rerenders_bad_input_with_field_errors_and_stores_nothing(
    client, changes, field, message
):
    response = client.post(URL, form_data(**changes))
    run_deferred()
    assert response.status_code == 400
    assert message in response.text
    assert field in response.context["form"].errors
    # What the person typed in the other fields is kept for them.
    assert PERSONAS["alice"]["subject_line"] in response.text
    assert Inquiry.objects.count() == 0
    assert DataSubject.objects.count() == 0


def test_it_discards_a_submission_that_fills_the_honeypot(client):
    response = client.post(URL, form_data(website="http://spam.example"))
    assert response.status_code == 303  # the bot is told it worked
    run_deferred()
    assert Inquiry.objects.count() == 0
    assert DataSubject.objects.count() == 0


def test_it_rate_limits_a_flood_from_one_client(client, settings):
    settings.CONTACT_RATE_LIMIT = 3
    statuses = [
        client.post(URL, form_data(email=f"flood{i}@example.com")).status_code for i in range(5)
    ]
    assert statuses == [303, 303, 303, 429, 429]
    run_deferred()
    assert Inquiry.objects.count() == 3
    # Another client is not affected.
    other = client.post(URL, form_data(), REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://attacker.example"},
        {"HTTP_ORIGIN": "null"},
    ],
)
def test_it_refuses_a_cross_site_post_without_needing_a_cookie(client, headers):
    response = client.post(URL, form_data(), **headers)
    assert response.status_code == 403
    run_deferred()
    assert Inquiry.objects.count() == 0


def test_it_accepts_a_same_origin_browser_post(client):
    response = client.post(
        URL,
        form_data(),
        HTTP_SEC_FETCH_SITE="same-origin",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 303
    run_deferred()
    assert Inquiry.objects.count() == 1


def test_it_accepts_an_origin_that_matches_the_host_when_fetch_metadata_is_missing(client):
    response = client.post(URL, form_data(), HTTP_ORIGIN="http://testserver")
    assert response.status_code == 303


def test_it_logs_no_personal_data_on_any_path(client, caplog, settings):
    settings.CONTACT_RATE_LIMIT = 2
    caplog.set_level("DEBUG")
    client.post(URL, form_data())  # stored
    client.post(URL, form_data(website="x"))  # honeypot
    client.post(URL, form_data())  # rate limited
    client.post(URL, form_data(email="bad"))  # invalid (still rate limited)
    run_deferred()
    assert "rate limit" in caplog.text  # the log did record what happened
    for value in PERSONAS["alice"].values():
        assert value not in caplog.text


def test_it_counts_the_client_behind_trusted_proxies_not_the_proxy(client, settings):
    settings.CONTACT_RATE_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    first = client.post(URL, form_data(), HTTP_X_FORWARDED_FOR="203.0.113.1")
    second = client.post(URL, form_data(), HTTP_X_FORWARDED_FOR="203.0.113.2")
    # A forged left-most entry does not give the first client a new budget (a message of
    # its own, so it is not taken for a repeat of the first).
    forged = client.post(
        URL, form_data(message="Another question."), HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.1"
    )
    assert [first.status_code, second.status_code, forged.status_code] == [303, 303, 429]


def test_a_failed_audit_write_undoes_the_whole_submission(client, monkeypatch):
    from qualipact.contact import events, services

    def broken_audit(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(events, "audit_log", broken_audit)
    with pytest.raises(RuntimeError):
        services.inquiry_submit(kind="general", **{k: v for k, v in PERSONAS["alice"].items()})
    # Same transaction: no inquiry and no person without their audit event.
    assert Inquiry.objects.count() == 0
    assert DataSubject.objects.count() == 0


def test_a_failed_submission_in_the_background_is_kept_to_try_again(client, monkeypatch):
    from qualipact.contact import events
    from qualipact.privacy.deferred import deferred_run
    from qualipact.privacy.models import DeferredWork

    assert client.post(URL, form_data()).status_code == 303
    monkeypatch.setattr(events, "audit_log", lambda **kwargs: 1 / 0)
    [work] = DeferredWork.objects.all()
    assert deferred_run(work_id=work.pk) == "retry"
    # Nothing half-written, and nothing lost: the work waits for its next try.
    assert Inquiry.objects.count() == 0 and DataSubject.objects.count() == 0
    work.refresh_from_db()
    assert work.attempts == 1 and work.last_error == "ZeroDivisionError"
    monkeypatch.undo()
    DeferredWork.objects.update(not_before=work.created_at)
    run_deferred()
    assert Inquiry.objects.get().message == PERSONAS["alice"]["message"]

"""The DPO's request page and queue: who asked and how they were verified, their own
words (a recorded staff view), the deadline, a failure in red with its reason, the actions
by step; a correction picked from the person's records with the field's own validation;
and everything the person is told about it in the registry's words."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from conftest import deliver_queued, submit_persona
from qualipact.accounts.models import Preferences, User
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.rights import services
from qualipact.rights.models import DataRequest
from qualipact.rights.selectors import request_summary
from qualipact.rights.services.requests import _MESSAGES
from qualipact.rights.tests.test_dpo import days, page, sent, submit

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

QUEUE = "/staff/rights/"
WORDS = "My phone number is wrong.\nIt should be +44 20 7946 0099."
# An internal name: "contact.Inquiry", "accounts.Preferences.language", "channel_email".
INTERNAL = re.compile(r"\b[a-z]+\.[A-Z][A-Za-z]+\b|\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def dpo_client(client, dpo_user):
    client.force_login(dpo_user)
    return client


@pytest.fixture
def alice(alice_account):
    submit_persona("alice")  # she wrote to us once, giving her name
    return alice_account.subject


def viewed(subject, actor, model):
    """The fields of `model` the staff member `actor` was recorded as seeing."""
    return [
        event.data["fields"]
        for event in AuditEvent.objects.filter(
            code=EventCode.SUBJECT_DATA_VIEWED, subject_id=subject.pk, actor_id=str(actor.pk)
        )
        if event.data["model"] == model
    ]


def section(response, marker):
    return response.text.split(marker, 1)[1].split("</dd>", 1)[0]


# -- the page ----------------------------------------------------------------------------


def test_it_shows_who_asked_how_they_were_verified_and_their_own_words(dpo_client, alice):
    request = submit(alice, "rectification", details={"correction": WORDS})
    response = dpo_client.get(page(request))
    assert response.status_code == 200
    assert "Alice Marchetti" in section(response, "data-person")
    assert "name (contact message)" in section(response, "data-person")
    assert "Signed in to their account" in section(response, "data-verified")
    asked = response.text.split("data-asked", 1)[1].split("</dl>", 1)[0]
    assert "In their words" in asked
    assert "My phone number is wrong." in asked and "+44 20 7946 0099" in asked
    due = section(response, "data-due")
    assert request.due_on.isoformat() in due
    assert f"{(request.due_on - timezone.localdate()).days} days left" in due
    assert "failure" not in due


def test_it_records_the_staff_view_of_the_name_and_the_details(dpo_client, dpo_user, alice):
    request = submit(alice, "rectification", details={"correction": WORDS})
    assert viewed(alice, dpo_user, "rights.DataRequest") == []
    dpo_client.get(page(request))
    assert viewed(alice, dpo_user, "rights.DataRequest") == [["details"]]
    assert viewed(alice, dpo_user, "contact.Inquiry") == [["name"]]
    event = AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_VIEWED).last()
    assert event.data["role"] == "dpo"
    assert WORDS not in str(event.data)


def test_it_shows_an_overdue_deadline_in_red_with_the_days_late(dpo_client, alice):
    request = submit(alice, due_on=days(-3))
    due = dpo_client.get(page(request)).text.split("data-due", 1)[1].split("</dd>", 1)[0]
    assert 'data-overdue class="failure"' in due
    assert "3 days late" in due


def test_it_shows_a_failure_in_red_with_its_reason_in_words(dpo_client, alice):
    request = submit(
        alice,
        "portability",
        status=DataRequest.Status.FAILED,
        failure_code="transfer_failed",
        fulfil_attempts=3,
        failed_at=timezone.now(),
    )
    response = dpo_client.get(page(request))
    failure = response.text.split("data-failure", 1)[1].split("</dd>", 1)[0]
    assert response.text.count('class="failure" data-failure') == 1
    assert "Sending the copy to the provider the person named failed." in failure
    assert "after 3 attempts" in failure
    assert "Retry fulfilment" in response.text


def test_it_groups_the_actions_by_step(dpo_client, alice):
    request = submit(alice, "rectification", details={"correction": WORDS})
    text = dpo_client.get(page(request)).text
    steps = re.findall(r'data-step="([a-z]+)"', text)
    assert steps == ["check", "answer", "holds", "notes", "trail"]
    # Each step holds its own actions, in that order.
    check, answer, holds, notes = (
        text.split(f'data-step="{name}"', 1)[1].split('data-step="', 1)[0]
        for name in ("check", "answer", "holds", "notes")
    )
    assert 'data-action="wait"' in check
    for action in ("pick", "refuse", "extend"):
        assert f'data-action="{action}"' in answer
    assert 'data-action="hold"' in holds
    assert 'data-action="note"' in notes


def test_it_names_who_asked_in_the_queue_and_records_it(dpo_client, dpo_user, alice, bob_account):
    mine = submit(alice, due_on=days(-1))
    submit(bob_account.subject, due_on=days(3))
    response = dpo_client.get(QUEUE)
    row = response.text.split(f'data-request="{mine.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Alice Marchetti" in row
    assert "(overdue)" in row
    assert viewed(alice, dpo_user, "contact.Inquiry") == [["name"]]
    # Bob never wrote to us: his username names him, and that read is his own event.
    assert viewed(bob_account.subject, dpo_user, "accounts.User") == [["username"]]


# -- correcting by picking ---------------------------------------------------------------


def key(model, record, field):
    return f"{model}|{record.pk}|{field}"


def test_it_offers_only_the_persons_rectifiable_fields_in_words(dpo_client, alice, bob_account):
    request = submit(alice, "rectification", details={"correction": WORDS})
    mine = Inquiry.objects.get(subject=alice)
    bobs = submit_persona("bob")
    text = dpo_client.get(page(request)).text
    picker = text.split('data-action="pick"', 1)[1].split("</form>", 1)[0]
    assert f'value="{key("contact.Inquiry", mine, "phone")}"' in picker
    assert '<optgroup label="Contact messages">' in picker
    assert ">Contact message: phone</option>" in picker
    assert ">Account preferences: language</option>" in picker
    for never in ("email_index", "password", "session_key", "ConsentEvent", str(bobs.pk)):
        assert never not in picker
    options = re.findall(r">([^<>]+)</option>", picker)
    assert options and not [o for o in options if INTERNAL.search(o)]


def test_it_corrects_a_choice_field_and_tells_the_person_in_words(
    dpo_client, dpo_user, alice, smtp
):
    request = submit(alice, "rectification", details={"correction": "I read French."})
    preferences = Preferences.objects.get(subject=alice)
    target = key("accounts.Preferences", preferences, "language")
    response = dpo_client.get(page(request), {"correct": target})
    form = response.text.split('data-action="rectify"', 1)[1].split("</form>", 1)[0]
    assert "Now: English" in form
    assert '<select name="value"' in form and '<option value="fr">Français</option>' in form
    assert viewed(alice, dpo_user, "accounts.Preferences") == [["language"]]

    response = dpo_client.post(f"{page(request)}rectify/", {"target": target, "value": "fr"})
    assert response.status_code == 302
    preferences.refresh_from_db()
    assert preferences.language == "fr"
    deliver_queued()
    body = sent(smtp)["Your request is complete"]
    assert "We corrected your data: language (account preferences)." in body
    assert "accounts.Preferences" not in body


def test_it_refuses_an_invalid_value_on_the_page_and_changes_nothing(dpo_client, alice_account):
    alice = alice_account.subject
    request = submit(alice, "rectification", details={"correction": "New language"})
    preferences = Preferences.objects.get(subject=alice)
    response = dpo_client.post(
        f"{page(request)}rectify/",
        {"target": key("accounts.Preferences", preferences, "language"), "value": "xx"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert 'data-action="rectify"' in response.text  # the form is back, with the error
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert Preferences.objects.get(subject=alice).language == "en"


def test_it_leaves_the_sign_in_address_to_the_flow_that_proves_it(dpo_client, alice_account):
    """An address the person is found by (a blind index's source) is never a DPO's edit:
    the person changes it from their account, confirming the new address."""
    alice = alice_account.subject
    request = submit(alice, "rectification", details={"correction": "New address"})
    target = key("accounts.User", alice_account, "email")
    assert f'value="{target}"' not in dpo_client.get(page(request)).text
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": target, "value": "mallory@example.org"}
    )
    assert response.status_code == 400
    assert User.objects.get(pk=alice_account.pk).email == "alice.marchetti@example.org"
    keys = {field.key for field in services.rectifiable_fields()}
    assert "accounts.User.email" not in keys and "comms.OutboundEmail.to" not in keys


# -- what the person is told -------------------------------------------------------------


def test_nothing_a_person_is_told_about_a_correction_names_an_internal_field(alice):
    """Every rectifiable field the registry declares, corrected: the completion email, the
    request's page and its status page speak the registry's words, never a model label."""
    fields = services.rectifiable_fields()
    assert len(fields) > 10
    request = submit(alice, "rectification", details={"correction": WORDS})
    for field in fields:
        request.status = DataRequest.Status.COMPLETED
        request.outcome = {"corrected": [field.key], "recipients_notified": []}
        note = services.corrected_note([field.key])
        assert field.spec.label in note
        email = _MESSAGES["completed"][1].format(kind=request.get_kind_display(), note=note)
        summary = request_summary(request)
        page_text = render_to_string(
            "rights/_summary.html", {"summary": summary, "data_request": request}
        )
        facts = render_to_string("rights/_request_facts.html", {"data_request": request})
        for text in (email, " ".join(summary["lines"]), page_text, facts):
            visible = re.sub(r"<[^>]+>", " ", text)
            assert not INTERNAL.search(visible), (field.key, visible)
            assert field.key not in text


def test_the_erasure_receipt_names_records_by_the_registrys_words(alice):
    from qualipact.privacy.registry import registry

    labels = [d.label for d in registry.subject_declarations()]
    request = submit(alice, "erasure")
    request.outcome = {
        "erased": labels,
        "kept": {labels[0]: "a legal hold"},
        "kept_categories": {"contact": "a legal hold"},
        "kept_by_law": {labels[-1]: "the law"},
    }
    receipt = services.erasure_receipt_text(request)
    assert "Connected sign-in providers" in receipt  # the registry's name, not "Social accounts"
    assert not INTERNAL.search(receipt), receipt


def test_it_never_offers_what_the_system_observed_or_the_rights_log_itself():
    """Sign-in times, used one-time codes and a request's own texts are records of what
    happened, not facts about the person to correct."""
    from qualipact.privacy.registry import Source

    fields = services.rectifiable_fields()
    assert fields, "some fields stay correctable"
    for field in fields:
        assert field.spec.source not in (Source.AUTOMATIC, Source.DERIVED), field.key
        assert not field.key.startswith("rights."), field.key
    keys = {field.key for field in fields}
    assert "accounts.UsedOneTimeCode.step" not in keys
    assert "accounts.User.last_login" not in keys
    assert "accounts.Preferences.language" in keys


def test_it_tells_the_dpo_a_refused_value_in_words_not_internal_names(
    dpo_client, alice_account, bob_account
):
    alice = alice_account.subject
    request = submit(alice, "rectification", details={"correction": "My username"})
    target = key("accounts.User", alice_account, "username")
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": target, "value": bob_account.username}
    )
    assert response.status_code == 400
    assert "This value is already in use" in response.text
    assert "accounts.User.username:" not in response.text  # the internal message
    assert User.objects.get(pk=alice_account.pk).username == alice_account.username


def test_it_lists_the_legal_holds_in_force_with_the_persons_request(dpo_client, dpo_user, alice):
    from qualipact.retention.services import legal_hold_lift, legal_hold_place

    request = submit(alice, "erasure")
    held = legal_hold_place(
        subject=alice,
        basis="legal_claims",
        models_held=["contact.Inquiry"],
        note="Case 12",
        actor=Actor.staff(dpo_user.pk),
    )
    lifted = legal_hold_place(subject=alice, basis="investigation", actor=Actor.staff(dpo_user.pk))
    legal_hold_lift(hold=lifted, actor=Actor.staff(dpo_user.pk))
    response = dpo_client.get("/staff/rights/holds/")
    assert response.status_code == 200
    assert f'data-hold="{held.pk}"' in response.text
    assert f'data-hold="{lifted.pk}"' not in response.text
    assert "contact messages" in response.text and f"/staff/rights/{request.pk}/" in response.text
    assert "Case 12" not in response.text  # the note is read on the request page


def test_it_keeps_the_request_open_for_more_corrections_and_tells_all_at_the_end(
    dpo_client, alice_account, smtp
):
    alice = alice_account.subject
    request = submit(alice, "rectification", details={"correction": "Language and channel"})
    preferences = Preferences.objects.get(subject=alice)
    language = key("accounts.Preferences", preferences, "language")
    response = dpo_client.post(
        f"{page(request)}rectify/", {"target": language, "value": "fr", "more": "on"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert Preferences.objects.get(subject=alice).language == "fr"
    channel = key("accounts.Preferences", preferences, "channel_site")
    dpo_client.post(f"{page(request)}rectify/", {"target": channel, "value": "on"})
    request.refresh_from_db()
    assert request.status == DataRequest.Status.COMPLETED
    assert request.outcome["corrected"] == [
        "accounts.Preferences.language",
        "accounts.Preferences.channel_site",
    ]
    deliver_queued()
    [body] = [m.get_payload(decode=True).decode() for m in smtp.messages if "language" in str(m)]
    assert "language (account preferences)" in body and "notices on the site" in body

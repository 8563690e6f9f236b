"""Requests about one's data through the web pages, end to end: from an account, by
email with a code, and by a parent for a linked child; with real emails through SMTP."""

import io
import re
import uuid
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, PERSONAS, account_for, reauthenticate, submit_persona
from qualipact.accounts.models import User
from qualipact.accounts.services import children
from qualipact.accounts.tests.test_children import child_sign_up, consent_token
from qualipact.consent.models import Channel
from qualipact.consent.services import consent_grant
from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.retention.services import legal_hold_place
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, ExportFile

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

MINE = reverse("rights:mine")
BY_EMAIL = reverse("rights:request")
VERIFY = reverse("rights:verify")
STATUS = reverse("rights:status")
CODE = re.compile(r"Your code is (\d{6})")
DOWNLOAD = re.compile(r"/rights/download/([A-Za-z0-9_-]+)/")
NOT_VALID = "The code is not valid: it may be wrong, expired or used up. Nothing was changed."


def bodies(smtp) -> list[str]:
    return [m.get_payload(decode=True).decode() for m in smtp.messages]


def sent_to(smtp, address: str) -> list[str]:
    return [
        m.get_payload(decode=True).decode()
        for m in smtp.messages
        if m["To"].lower() == address.lower()
    ]


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def signed_in(client, name: str = "alice") -> User:
    user = User.objects.filter(username=name).first() or account_for(name)
    response = client.post("/accounts/login/", {"login": name, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return user


def for_other_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(code=RightsCode.RIGHTS_REQUEST_FOR_OTHER_REFUSED).order_by("id")
    )


# -- pages ---------------------------------------------------------------------------------


def test_it_shows_the_email_form_to_anonymous_visitors_without_a_cookie(client):
    response = client.get(BY_EMAIL)
    assert response.status_code == 200
    assert response.cookies == {}
    assert "no-store" in response["Cache-Control"]
    html = response.text
    assert 'name="email"' in html and 'name="kind"' in html and 'name="california"' in html
    assert "<style" not in html and " style=" not in html and " onclick" not in html
    assert f'href="{BY_EMAIL}">Your rights</a>' in client.get("/").text


def test_it_asks_to_sign_in_for_the_account_page(client):
    response = client.get(MINE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_links_the_account_page_and_points_to_self_service_corrections(client):
    signed_in(client)
    assert f'href="{MINE}"' in client.get(reverse("accounts:home")).text
    response = client.get(MINE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "data-no-requests" in response.text
    assert 'href="/accounts/"' in response.text and "change yourself" in response.text


# -- signed in: each kind of request -----------------------------------------------------------


def test_it_gives_a_signed_in_person_their_data_once_through_the_emailed_link(web):
    alice = signed_in(web.client)
    submit_persona("alice")
    reauthenticate(web.client)
    response = web.post(MINE, {"kind": "access", "confirm_export": "on"})
    assert response.status_code == 200, response.text
    assert "data-submitted" in response.text
    data_request = DataRequest.objects.get()
    assert data_request.subject_id == alice.subject_id
    assert data_request.channel == "account" and data_request.regime == "gdpr"
    data_request.refresh_from_db()
    assert data_request.status == "completed"

    page = web.client.get(MINE).text
    assert f'data-request="{data_request.pk}"' in page
    assert "we emailed you a link" in page

    mail = sent_to(web.smtp, PERSONAS["alice"]["email"])
    token = next(m.group(1) for body in mail if (m := DOWNLOAD.search(body)))
    url = reverse("rights:download", args=[token])
    assert "Download my data" in web.client.get(url).text  # a link scanner changes nothing
    response = web.client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert {"data.json", "schema.json", "summary.html"} <= set(names)
    assert any(name.endswith(".csv") for name in names)
    data = archive.read("data.json").decode()
    assert PERSONAS["alice"]["message"] in data
    assert PERSONAS["alice"]["name"] in archive.read("summary.html").decode()
    assert AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_DOWNLOADED).count() == 1

    again = web.client.post(url)
    assert again.status_code == 404
    assert "This download link is not valid: it works once" in again.text
    assert AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_DOWNLOADED).count() == 1


def test_it_refuses_an_expired_download_link_clearly(web):
    signed_in(web.client)
    reauthenticate(web.client)
    web.post(MINE, {"kind": "portability", "confirm_export": "on"})
    token = next(
        m.group(1) for body in sent_to(web.smtp, PERSONAS["alice"]["email"])
        if (m := DOWNLOAD.search(body))
    )  # fmt: skip
    ExportFile.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = web.client.post(reverse("rights:download", args=[token]))
    assert response.status_code == 404
    assert "data-invalid-link" in response.text and "Nothing was changed" in response.text
    assert ExportFile.objects.get().downloaded_at is None
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_DOWNLOADED).exists()


def test_it_sends_a_correction_to_the_dpo_with_what_is_wrong_and_what_it_should_be(web):
    signed_in(web.client)
    response = web.post(MINE, {"kind": "rectification", "wrong": "My street"})
    assert response.status_code == 400
    assert "Say what it should be." in response.text
    assert not DataRequest.objects.exists()

    response = web.post(
        MINE,
        {"kind": "rectification", "wrong": "Street is Larkspur Row", "should_be": "Larch Row"},
    )
    assert response.status_code == 200
    data_request = DataRequest.objects.get()
    assert data_request.status == "in_progress"  # a DPO decides
    assert "Street is Larkspur Row" in data_request.details
    assert "Larch Row" in data_request.details
    assert "Data Protection Officer reviews" in web.client.get(MINE).text


def test_it_restricts_processing_on_request(web):
    alice = signed_in(web.client)
    web.post(MINE, {"kind": "restriction"})
    assert DataRequest.objects.get().status == "completed"
    subject = DataSubject.objects.get(pk=alice.subject_id)
    assert subject.restricted_at is not None
    assert "We now only store your data" in web.client.get(MINE).text


@pytest.mark.parametrize("purpose", ["marketing", "analytics"])
def test_it_stops_the_use_objected_to(web, purpose):
    alice = signed_in(web.client)
    if purpose == "marketing":
        consent_grant(
            subject=alice.subject,
            purpose="marketing",
            channel=Channel.WEB_FORM,
            actor=Actor.subject(alice.subject_id),
        )
    assert may_process(alice.subject, purpose)
    response = web.post(MINE, {"kind": "objection"})
    assert response.status_code == 400 and "Choose the use you object to." in response.text
    web.post(MINE, {"kind": "objection", "purpose": purpose})
    assert DataRequest.objects.get().status == "completed"
    assert not may_process(DataSubject.objects.get(pk=alice.subject_id), purpose)
    assert "We stopped using your data for" in web.client.get(MINE).text


def test_it_refuses_an_objection_to_a_use_the_law_or_a_contract_requires(web):
    signed_in(web.client)
    response = web.post(MINE, {"kind": "objection", "purpose": "legal_compliance"})
    assert response.status_code == 400
    assert not DataRequest.objects.exists()


def test_it_withdraws_the_consents_chosen(web):
    alice = signed_in(web.client)
    for purpose in ("marketing", "personalised_offers"):
        consent_grant(
            subject=alice.subject,
            purpose=purpose,
            channel=Channel.WEB_FORM,
            actor=Actor.subject(alice.subject_id),
        )
    web.post(MINE, {"kind": "consent_withdrawal", "purposes": ["marketing"]})
    assert DataRequest.objects.get().status == "completed"
    subject = DataSubject.objects.get(pk=alice.subject_id)
    assert not may_process(subject, "marketing")
    assert may_process(subject, "personalised_offers")
    assert "Your consent is withdrawn for: Newsletters and marketing" in web.client.get(MINE).text


def test_it_answers_a_californian_within_45_days(web):
    signed_in(web.client)
    web.post(MINE, {"kind": "rectification", "wrong": "a", "should_be": "b", "california": "on"})
    data_request = DataRequest.objects.get()
    assert data_request.regime == "ccpa"
    assert data_request.due_on == timezone.localdate(data_request.received_at) + timedelta(days=45)


def test_it_asks_for_a_confirmation_before_an_erasure(web):
    alice = signed_in(web.client)
    reauthenticate(web.client)
    response = web.post(MINE, {"kind": "erasure"})
    assert response.status_code == 400
    assert "Tick the box to confirm the erasure." in response.text
    assert not DataRequest.objects.exists()
    assert User.objects.filter(pk=alice.pk).exists()


def test_it_asks_for_the_password_before_an_erasure_then_goes_on(web):
    alice = signed_in(web.client)
    response = web.post(MINE, {"kind": "erasure", "confirm_erasure": "on"}, follow=False)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not DataRequest.objects.exists()
    response = web.post(response["Location"], {"password": "not the password at all"})
    assert response.status_code == 200 and not DataRequest.objects.exists()
    # The right password: the request the person sent goes on.
    response = web.post("/accounts/reauthenticate/?next=/rights/", {"password": PASSWORD})
    assert response.status_code == 200, response.status_code
    assert "data-submitted" in response.text
    assert DataRequest.objects.get().kind == "erasure"
    assert not User.objects.filter(pk=alice.pk).exists()


def test_it_erases_a_signed_in_person_and_shows_the_receipt(web):
    alice = signed_in(web.client)
    inquiry = submit_persona("alice")
    reauthenticate(web.client)
    response = web.post(MINE, {"kind": "erasure", "confirm_erasure": "on"})
    assert response.status_code == 200
    receipt = hidden(response.text, "receipt")
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Inquiry.objects.filter(pk=inquiry.pk).exists()
    assert vault.is_shredded(alice.subject_id)
    page = web.client.post(STATUS, {"receipt": receipt})
    assert page.status_code == 200
    assert 'data-status="completed"' in page.text
    assert 'data-model="contact.Inquiry"' in page.text and 'data-model="accounts.User"' in page.text
    assert "data-kept>" not in page.text
    assert "Your data is erased" in page.text
    # The receipt email went to the address the account had.
    receipt_mail = sent_to(web.smtp, PERSONAS["alice"]["email"])
    assert any("We erased your data" in body for body in receipt_mail)
    # Signed out: the account is gone.
    assert web.client.get(MINE).status_code == 302


def test_it_keeps_what_a_legal_hold_covers_and_names_it_on_the_receipt(web):
    alice = signed_in(web.client)
    inquiry = submit_persona("alice")
    legal_hold_place(
        subject=alice.subject,
        basis="legal_claims",
        actor=Actor.staff("1"),
        models_held=["contact.Inquiry"],
    )
    reauthenticate(web.client)
    response = web.post(MINE, {"kind": "erasure", "confirm_erasure": "on"})
    page = web.client.post(STATUS, {"receipt": hidden(response.text, "receipt")})
    assert page.status_code == 200
    kept = re.search(r"<ul data-kept>(.*?)</ul>", page.text, re.S)
    assert kept, page.text
    assert 'data-model="contact.Inquiry"' in kept.group(1)
    assert "Establishing, exercising or defending legal claims" in kept.group(1)
    # The answer names the reason per category of data too.
    categories = re.search(r"<ul data-kept-categories>(.*?)</ul>", page.text, re.S).group(1)
    for category in ("communication", "contact", "identity"):
        assert f'data-category="{category}"' in categories
    assert "legal claims" in categories
    assert "We erased what we could" in page.text
    erased = re.search(r"<ul data-erased>(.*?)</ul>", page.text, re.S).group(1)
    assert 'data-model="accounts.User"' in erased and "contact.Inquiry" not in erased
    # What is held stays, readable.
    vault.key_cache_clear()
    held = Inquiry.objects.get(pk=inquiry.pk)
    assert held.message == PERSONAS["alice"]["message"]
    assert held.name == PERSONAS["alice"]["name"]
    assert not vault.is_shredded(alice.subject_id)
    assert not User.objects.filter(pk=alice.pk).exists()
    outcome = DataRequest.objects.get().outcome
    assert outcome["complete"] is False and "contact.Inquiry" in outcome["kept"]


# -- without an account: by email, with a code ---------------------------------------------------


def ask_by_email(web, kind: str, email: str = PERSONAS["alice"]["email"], **extra):
    response = web.post(BY_EMAIL, {"email": email, "kind": kind, **extra})
    assert response.status_code == 200, response.text
    assert "If we hold data for this address, we sent a code" in response.text
    assert response.cookies == {}
    return hidden(response.text, "ticket")


def emailed_code(web, email: str = PERSONAS["alice"]["email"]) -> str:
    codes = [m.group(1) for body in sent_to(web.smtp, email) if (m := CODE.search(body))]
    assert codes, "no code was emailed"
    return codes[-1]


KINDS = [
    ("access", {"confirm_export": "on"}, "completed"),
    ("portability", {"confirm_export": "on"}, "completed"),
    ("rectification", {"wrong": "My phone", "should_be": "+44 20 7946 0000"}, "in_progress"),
    ("erasure", {"confirm_erasure": "on"}, "completed"),
    ("restriction", {}, "completed"),
    ("objection", {"purpose": "marketing"}, "completed"),
    ("consent_withdrawal", {}, "completed"),
]


@pytest.mark.parametrize(("kind", "extra", "final"), KINDS)
def test_it_takes_each_kind_of_request_by_email_once_the_code_is_entered(web, kind, extra, final):
    inquiry = submit_persona("alice")
    ticket = ask_by_email(web, kind, **extra)
    data_request = DataRequest.objects.get()
    assert data_request.status == "verifying" and data_request.channel == "email"
    assert ticket not in "".join(bodies(web.smtp))  # the ticket never travels by email

    response = web.post(VERIFY, {"ticket": ticket, "code": emailed_code(web)})
    assert response.status_code == 200, response.text
    assert response.cookies == {}
    assert "Thank you: your request is confirmed" in response.text
    data_request.refresh_from_db()
    assert data_request.status == final

    status = web.client.post(STATUS, {"receipt": hidden(response.text, "receipt")})
    assert status.status_code == 200 and status.cookies == {}
    assert f'data-status="{final}"' in status.text
    if kind == "erasure":
        assert not Inquiry.objects.filter(pk=inquiry.pk).exists()
        assert vault.is_shredded(inquiry.subject_id)
        assert 'data-model="contact.Inquiry"' in status.text
        assert any("We erased your data" in body for body in bodies(web.smtp))
    if kind in ("access", "portability"):
        assert any(DOWNLOAD.search(body) for body in bodies(web.smtp))


def test_it_does_nothing_while_the_code_is_not_entered(web, settings):
    settings.RIGHTS_REQUEST_RATE_LIMIT = len(KINDS)
    inquiry = submit_persona("alice")
    for kind, extra, _ in KINDS:
        ask_by_email(web, kind, **extra)
    assert set(DataRequest.objects.values_list("status", flat=True)) == {"verifying"}
    assert not ExportFile.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).message == PERSONAS["alice"]["message"]
    assert not vault.is_shredded(inquiry.subject_id)
    subject = DataSubject.objects.get(pk=inquiry.subject_id)
    assert subject.restricted_at is None and subject.erased_at is None
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_REQUEST_VERIFIED).exists()


def test_it_gives_an_unknown_address_the_same_page_and_no_email(web):
    submit_persona("alice")
    ticket = ask_by_email(web, "access", email="nobody@example.com", confirm_export="on")
    assert not DataRequest.objects.exists()
    assert sent_to(web.smtp, "nobody@example.com") == []
    response = web.post(VERIFY, {"ticket": ticket, "code": "123456"})
    assert response.status_code == 400 and NOT_VALID in response.text


def test_it_refuses_a_wrong_code_clearly_and_changes_nothing(web):
    inquiry = submit_persona("alice")
    ticket = ask_by_email(web, "erasure", confirm_erasure="on")
    code = emailed_code(web)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = web.post(VERIFY, {"ticket": ticket, "code": wrong})
    assert response.status_code == 400
    assert NOT_VALID in response.text and "data-code-error" in response.text
    assert response.cookies == {}
    assert hidden(response.text, "ticket") == ticket  # one may try again
    data_request = DataRequest.objects.get()
    assert data_request.status == "verifying" and data_request.verification_attempts == 1
    assert Inquiry.objects.get(pk=inquiry.pk).name == PERSONAS["alice"]["name"]
    assert not vault.is_shredded(inquiry.subject_id)
    # A forged ticket is as good as none.
    response = web.post(VERIFY, {"ticket": ticket + "x", "code": code})
    assert response.status_code == 400 and NOT_VALID in response.text
    # The right code still works.
    assert web.post(VERIFY, {"ticket": ticket, "code": code}).status_code == 200


def test_it_refuses_an_expired_code(web):
    inquiry = submit_persona("alice")
    ticket = ask_by_email(web, "erasure", confirm_erasure="on")
    DataRequest.objects.update(verification_expires_at=timezone.now() - timedelta(seconds=1))
    response = web.post(VERIFY, {"ticket": ticket, "code": emailed_code(web)})
    assert response.status_code == 400 and NOT_VALID in response.text
    assert DataRequest.objects.get().status == "verifying"
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    assert not vault.is_shredded(inquiry.subject_id)


def test_it_refuses_an_expired_ticket(web, monkeypatch):
    submit_persona("alice")
    ticket = ask_by_email(web, "access", confirm_export="on")
    later = timezone.now().timestamp() + 31 * 60
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    response = web.post(VERIFY, {"ticket": ticket, "code": emailed_code(web)})
    assert response.status_code == 400 and NOT_VALID in response.text
    assert DataRequest.objects.get().status == "verifying"
    assert not ExportFile.objects.exists()


def test_it_refuses_the_request_after_five_wrong_codes(web, settings):
    inquiry = submit_persona("alice")
    ticket = ask_by_email(web, "erasure", confirm_erasure="on")
    code = emailed_code(web)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert web.post(VERIFY, {"ticket": ticket, "code": wrong}).status_code == 400
    data_request = DataRequest.objects.get()
    assert data_request.status == "refused"
    assert data_request.refusal_basis == "identity_not_verified"
    assert any("We cannot do what you asked" in body for body in bodies(web.smtp))
    # Now even the right code changes nothing.
    response = web.post(VERIFY, {"ticket": ticket, "code": code})
    assert response.status_code == 400 and NOT_VALID in response.text
    assert Inquiry.objects.get(pk=inquiry.pk).message == PERSONAS["alice"]["message"]
    assert not vault.is_shredded(inquiry.subject_id)


def test_it_limits_how_often_one_address_sends_the_forms(web, settings):
    settings.RIGHTS_REQUEST_RATE_LIMIT = 2
    settings.RIGHTS_VERIFY_RATE_LIMIT = 2
    submit_persona("alice")
    # Three different requests (the same one again would be recognised as a repeat).
    ticket = ask_by_email(web, "access", confirm_export="on")
    ask_by_email(web, "restriction")
    response = web.post(BY_EMAIL, {"email": PERSONAS["alice"]["email"], "kind": "objection"})
    assert response.status_code == 429 and response.cookies == {}
    assert DataRequest.objects.count() == 2
    for _ in range(2):
        web.post(VERIFY, {"ticket": ticket, "code": "000000"})
    response = web.post(VERIFY, {"ticket": ticket, "code": emailed_code(web)})
    assert response.status_code == 429
    assert not DataRequest.objects.filter(status="completed").exists()


def test_it_refuses_a_receipt_that_was_not_ours_to_sign(client):
    forged = signing.dumps({"r": str(uuid.uuid4())}, salt="somewhere.else")
    response = client.post(STATUS, {"receipt": forged})
    assert response.status_code == 400 and "data-invalid-receipt" in response.text


# -- someone else's data ------------------------------------------------------------------------


def test_it_hides_and_audits_every_request_that_is_not_the_persons(web):
    bob_client = Client()
    bob = signed_in(bob_client, "bob")
    web.post(MINE, {"kind": "restriction"}, by=bob_client)
    bobs = DataRequest.objects.get()
    alice = signed_in(web.client, "alice")
    web.post(MINE, {"kind": "restriction"})
    own = DataRequest.objects.get(subject=alice.subject)
    assert web.client.get(reverse("rights:detail", args=[own.pk])).status_code == 200

    nobody = uuid.uuid4()
    for tried, target in [(bobs.pk, bob.subject_id), (nobody, None)]:
        response = web.client.get(reverse("rights:detail", args=[tried]))
        assert response.status_code == 404
        assert "data-not-found" in response.text
        event = for_other_events()[-1]
        assert event.actor_kind == "subject" and event.actor_id == str(alice.subject_id)
        assert event.subject_id == target
        assert event.data == {"id": str(tried), "target": "request"}
    assert len(for_other_events()) == 2
    # Bob's request is not in Alice's list either.
    assert str(bobs.pk) not in web.client.get(MINE).text


def test_it_lets_a_parent_make_a_request_for_a_linked_child(web):
    parent = signed_in(web.client, "alice")
    child = child_sign_up(parent_email=PERSONAS["alice"]["email"])
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    listing = web.client.get(reverse("accounts:children")).text
    url = reverse("rights:child", kwargs={"child_id": child.pk})
    assert f'href="{url}"' in listing
    assert web.client.get(url).status_code == 200

    reauthenticate(web.client)  # an export needs a recent re-authentication
    response = web.post(url, {"kind": "access", "confirm_export": "on"})
    assert response.status_code == 200, response.text
    data_request = DataRequest.objects.get()
    assert data_request.subject_id == child.subject_id
    assert data_request.requested_by_id == parent.subject_id
    assert data_request.channel == "parent"
    assert data_request.status == "completed"
    # The parent is answered, at the parent's address.
    assert any(DOWNLOAD.search(b) for b in sent_to(web.smtp, PERSONAS["alice"]["email"]))
    assert "(for your child)" in web.client.get(MINE).text
    assert web.client.get(reverse("rights:detail", args=[data_request.pk])).status_code == 200


def test_it_refuses_and_audits_a_request_for_anyone_but_a_linked_child(web):
    parent = signed_in(web.client, "alice")
    reauthenticate(web.client)
    bob = account_for("bob")
    unlinked = child_sign_up(username="lee", email="lee.child@example.org")
    tries = [
        (bob.pk, bob.subject_id),  # another adult
        (unlinked.pk, unlinked.subject_id),  # a child, but not linked to this parent
        (parent.pk, parent.subject_id),  # oneself
        (uuid.uuid4(), None),  # nobody
    ]
    for tried, target in tries:
        url = reverse("rights:child", kwargs={"child_id": tried})
        for method in ("get", "post"):
            response = getattr(web.client, method)(url, {"kind": "access"})
            assert response.status_code == 404, (tried, method)
            event = for_other_events()[-1]
            assert event.actor_id == str(parent.subject_id)
            assert event.subject_id == target
            assert event.data == {"id": str(tried), "target": "child"}
    assert len(for_other_events()) == 2 * len(tries)
    assert not DataRequest.objects.exists()

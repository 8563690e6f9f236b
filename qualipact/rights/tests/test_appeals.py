"""Appeals of refused requests: how the refusal email says to appeal, the 60-day due date,
the second DPO's decision (never the refuser's), the outcome and the authority named for
the person's country, the reminders, and the console's counts."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import PERSONAS, run_deferred
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.authorities import AUTHORITIES, EDPB_MEMBERS_URL, authority_for
from qualipact.privacy.countries import COUNTRIES
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.rights import services
from qualipact.rights.events import RightsCode
from qualipact.rights.models import Appeal, DataRequest
from qualipact.rights.services.appeals import appeal_reminders, appeals_waiting
from qualipact.rights.tests.conftest import REFUSAL_REASON, refuse_by

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

WORDS = "I live at this address, here is why you are wrong: the contract is out of date"
ALICE = PERSONAS["alice"]["email"]


def sent(smtp):
    """Subject line -> body of every email in the outbox (the browser test follows them
    through SMTP; here the clock may be pinned, which the outbox's send times ignore)."""
    return {
        email.subject_line: email.body for email in OutboundEmail.objects.order_by("created_at")
    }


def appeal(request, *, country="", text=WORDS):
    return services.appeal_make(
        request=request, text=text, country=country, actor=Actor.subject(request.subject_id)
    )


def staff(user):
    return Actor.staff(str(user.pk))


@pytest.fixture
def clock(monkeypatch):
    """Pin `timezone.now` to a moment the test moves."""

    class Clock:
        now = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.get_current_timezone())

        def set(self, moment):
            self.now = moment

    pinned = Clock()
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


# -- the refusal email says how -----------------------------------------------------------


def test_it_says_in_the_refusal_email_how_to_appeal_from_the_account(smtp, refused_request):
    body = sent(smtp)["We cannot do what you asked"]
    assert re.search(rf"https?://\S+/rights/{refused_request.pk}/", body)
    assert "appeal" in body and "within 60 days" in body
    assert "supervisory authority" in body
    assert "The link works" not in body  # an account's page needs no expiring link


def test_it_gives_a_person_without_an_account_the_status_link_to_appeal(
    smtp, client, alice_account, dpo_user
):
    services.request_by_email(email=ALICE, kind=DataRequest.Kind.ACCESS)
    run_deferred()
    request = DataRequest.objects.get()
    refuse_by(request, dpo_user)
    body = sent(smtp)["We cannot do what you asked"]
    link = re.search(r"https?://[^/\s]+(/rights/submitted/\?receipt=\S+)", body).group(1)
    assert "The link works for 30 days" in body

    page = client.get(link)
    assert page.status_code == 200 and "data-appeal-link" in page.text
    form_url = re.search(r'href="([^"]*/rights/appeal/\?receipt=[^"]+)"', page.text).group(1)
    form_url = form_url.replace("&amp;", "&")
    form_page = client.get(form_url)
    assert form_page.status_code == 200, form_page.text
    receipt = re.search(r"receipt=([^&]+)", form_url).group(1)
    from urllib.parse import unquote

    response = client.post(
        "/rights/appeal/", {"receipt": unquote(receipt), "text": WORDS, "country": "SE"}
    )
    assert response.status_code == 302
    made = Appeal.objects.get()
    assert made.request_id == request.pk and made.text == WORDS and made.country == "SE"
    assert not client.cookies  # a person without an account gets no cookie
    assert 'data-appeal-status="open"' in client.get(response["Location"]).text


def test_it_refuses_an_appeal_by_a_forged_or_missing_receipt(client, refused_request):
    assert client.post("/rights/appeal/", {"receipt": "forged", "text": WORDS}).status_code == 400
    assert not Appeal.objects.exists()


# -- making an appeal ---------------------------------------------------------------------


def test_it_makes_the_appeal_due_sixty_days_after_it_is_made(clock, smtp, refused_request):
    clock.set(clock.now + timedelta(days=3))
    made = appeal(refused_request, country="fr")
    assert made.made_at == clock.now
    assert made.due_on == timezone.localdate(clock.now) + timedelta(days=60)
    assert made.due_on.isoformat() == "2025-05-03"
    assert made.country == "FR" and made.status == Appeal.Status.OPEN
    event = AuditEvent.objects.get(code=RightsCode.RIGHTS_APPEAL_MADE)
    assert event.data == {
        "request_id": str(refused_request.pk),
        "appeal_id": str(made.pk),
        "due_on": "2025-05-03",
    }
    messages = sent(smtp)
    assert "by 2025-05-03" in messages["We received your appeal"]
    assert str(made.pk) in messages["An appeal waits for a decision"]
    assert WORDS not in messages["An appeal waits for a decision"]  # references only


def test_it_takes_one_appeal_per_refusal_and_none_of_an_open_request(
    refused_request, alice_account
):
    appeal(refused_request)
    with pytest.raises(ApplicationError):
        appeal(refused_request)
    open_request = services.request_submit(
        subject=alice_account.subject,
        kind=DataRequest.Kind.RECTIFICATION,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(alice_account.subject_id),
        details={"correction": "x"},
    )
    with pytest.raises(ApplicationError):
        appeal(open_request)
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize("text,country", [("", ""), ("   ", ""), ("x" * 4001, ""), (WORDS, "XX")])
def test_it_refuses_an_empty_or_too_long_appeal_or_an_unknown_country(
    refused_request, text, country
):
    with pytest.raises(ApplicationError):
        appeal(refused_request, text=text, country=country)
    assert not Appeal.objects.exists()


def test_it_shows_a_form_error_and_keeps_the_text_when_the_appeal_is_empty(
    client, alice_account, refused_request
):
    client.force_login(alice_account)
    response = client.post(f"/rights/{refused_request.pk}/appeal/", {"text": "", "country": "FR"})
    assert response.status_code == 400 and "errorlist" in response.text
    assert not Appeal.objects.exists()


def test_it_answers_not_found_for_someone_elses_request(client, bob_account, refused_request):
    client.force_login(bob_account)
    response = client.post(f"/rights/{refused_request.pk}/appeal/", {"text": WORDS})
    assert response.status_code == 404
    assert not Appeal.objects.exists()
    assert AuditEvent.objects.filter(
        code=RightsCode.RIGHTS_REQUEST_FOR_OTHER_REFUSED, data__target="appeal"
    ).exists()


# -- the decision -------------------------------------------------------------------------


def test_it_refuses_the_decision_to_the_dpo_who_refused(client, smtp, dpo_user, refused_request):
    made = appeal(refused_request)
    with pytest.raises(ApplicationError, match="another Data Protection Officer"):
        services.appeal_decide(appeal=made, grant=True, reason="", actor=staff(dpo_user))
    made.refresh_from_db()
    assert made.status == Appeal.Status.OPEN and made.refused_by == str(dpo_user.pk)

    client.force_login(dpo_user)
    page = client.get(f"/staff/rights/appeals/{made.pk}/")
    assert page.status_code == 200 and "data-not-yours" in page.text
    assert "data-decide-form" not in page.text
    response = client.post(
        f"/staff/rights/appeals/{made.pk}/decide/", {"decision": "grant", "reason": ""}
    )
    assert response.status_code == 400
    assert "another Data Protection Officer must decide" in response.text
    made.refresh_from_db()
    assert made.status == Appeal.Status.OPEN
    assert DataRequest.objects.get(pk=refused_request.pk).status == DataRequest.Status.REFUSED


@pytest.mark.parametrize(
    "country,named",
    [
        ("FR", ["Commission nationale de l'informatique et des libertés", "https://www.cnil.fr"]),
        ("GB", ["Information Commissioner's Office", "https://ico.org.uk"]),
        ("", [EDPB_MEMBERS_URL]),
    ],
)
def test_it_upholds_with_reasons_and_names_the_persons_authority(
    client, smtp, second_dpo, refused_request, country, named
):
    made = appeal(refused_request, country=country)
    decided = services.appeal_decide(
        appeal=made, grant=False, reason="The contract is binding", actor=staff(second_dpo)
    )
    assert decided.status == Appeal.Status.UPHELD and decided.decided_by == str(second_dpo.pk)
    body = sent(smtp)["We upheld our refusal"]
    assert "The contract is binding" in body
    for text in named:
        assert text in body
    event = AuditEvent.objects.get(code=RightsCode.RIGHTS_APPEAL_DECIDED)
    assert event.data["outcome"] == "upheld" and event.actor_id == str(second_dpo.pk)

    client.force_login(refused_request.subject.account)
    page = client.get(f"/rights/{refused_request.pk}/")
    assert 'data-appeal-status="upheld"' in page.text
    assert named[-1] in page.text and "data-appeal-link" not in page.text


def test_it_needs_reasons_to_uphold(second_dpo, refused_request):
    made = appeal(refused_request)
    with pytest.raises(ApplicationError):
        services.appeal_decide(appeal=made, grant=False, reason=" ", actor=staff(second_dpo))
    made.refresh_from_db()
    assert made.status == Appeal.Status.OPEN


def test_it_grants_and_reopens_the_request_for_fulfilment(clock, smtp, second_dpo, refused_request):
    made = appeal(refused_request)
    services.appeal_decide(appeal=made, grant=True, reason="", actor=staff(second_dpo))
    request = DataRequest.objects.get(pk=refused_request.pk)
    assert request.status == DataRequest.Status.IN_PROGRESS
    assert request.refusal_basis == "" and request.refusal_reason is None
    assert request.completed_at is None
    assert request.effective_due_on >= made.due_on
    assert "Your appeal is granted" in sent(smtp)
    with pytest.raises(ApplicationError):  # decided once
        services.appeal_decide(appeal=made, grant=False, reason="no", actor=staff(second_dpo))
    # Refused again later: that refusal may be appealed in turn.
    clock.set(clock.now + timedelta(days=1))
    refuse_by(request, second_dpo)
    assert services.appeal_possible(DataRequest.objects.get(pk=request.pk))


def test_it_decides_from_the_dpo_page_and_records_the_staff_view(
    client, smtp, second_dpo, refused_request
):
    made = appeal(refused_request)
    client.force_login(second_dpo)
    page = client.get(f"/staff/rights/appeals/{made.pk}/")
    assert WORDS in page.text and REFUSAL_REASON in page.text
    view = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, actor_id=str(second_dpo.pk), data__model="rights.Appeal"
    ).get()
    assert view.subject_id == refused_request.subject_id and "text" in view.data["fields"]
    response = client.post(
        f"/staff/rights/appeals/{made.pk}/decide/",
        {"decision": "uphold", "reason": "The contract is binding"},
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == Appeal.Status.UPHELD


# -- reminders and the console ------------------------------------------------------------


def test_it_reminds_the_dpos_a_week_before_an_appeal_is_due(
    clock, smtp, second_dpo, refused_request
):
    made = appeal(refused_request)
    OutboundEmail.objects.all().delete()
    start = timezone.localdate(clock.now)
    assert appeal_reminders(today=start + timedelta(days=52)) == 0  # due in 8 days
    assert not OutboundEmail.objects.exists()
    # Due in 7 days: both DPOs are told, by reference and date only.
    assert appeal_reminders(today=start + timedelta(days=53)) == 2
    messages = [m for m in sent(smtp).items() if m[0].startswith("Appeals due within 7 days")]
    [(subject, body)] = messages
    assert subject == "Appeals due within 7 days: 1"
    assert str(made.pk) in body and f"due {made.due_on}" in body and WORDS not in body
    event = AuditEvent.objects.get(code=RightsCode.RIGHTS_APPEALS_REMINDED)
    assert event.data == {"appeals": [str(made.pk)], "emails": 2}
    OutboundEmail.objects.all().delete()
    assert appeal_reminders(today=start + timedelta(days=61)) == 2  # overdue: still told
    assert "OVERDUE since" in OutboundEmail.objects.first().body
    services.appeal_decide(appeal=made, grant=True, reason="", actor=staff(second_dpo))
    assert appeal_reminders(today=start + timedelta(days=61)) == 0  # decided: quiet


def test_it_counts_appeals_due_and_overdue_on_the_console(client, second_dpo, refused_request):
    made = appeal(refused_request)
    today = timezone.localdate()
    assert appeals_waiting(today=today) == (0, 0)
    assert appeals_waiting(today=made.due_on - timedelta(days=7)) == (1, 0)
    assert appeals_waiting(today=made.due_on + timedelta(days=1)) == (0, 1)

    Appeal.objects.filter(pk=made.pk).update(due_on=today - timedelta(days=1))
    client.force_login(second_dpo)
    console = client.get("/staff/")
    assert 'data-console-page="rights:dpo_appeals"' in console.text
    assert "appeals overdue" in console.text
    listing = client.get("/staff/rights/appeals/?which=overdue")
    assert listing.status_code == 200 and f'data-appeal="{made.pk}"' in listing.text
    assert "data-overdue" in listing.text
    assert f'data-appeal="{made.pk}"' not in client.get("/staff/rights/appeals/?which=due").text


# -- the authorities ----------------------------------------------------------------------


def test_it_knows_an_authority_for_every_country_a_person_can_choose():
    for country in COUNTRIES:
        if country.code != "ZZ":
            assert authority_for(country.code) is not None, country.code
    assert authority_for("ZZ") is None and authority_for("") is None
    assert authority_for("fr").url == "https://www.cnil.fr"
    assert all(a.url.startswith("https://") for a in AUTHORITIES)
    assert len({a.country for a in AUTHORITIES}) == len(AUTHORITIES) == 32  # EU 27 + EEA 3 + 2


def test_it_gives_every_refusal_ground_in_a_persons_words():
    from qualipact.rights.models import DataRequest

    for basis in DataRequest.RefusalBasis:
        words = DataRequest(refusal_basis=basis).refusal_basis_for_person
        assert words and words[0].islower() and "Art " not in words, basis
    assert "GDPR Article 12(5)" in DataRequest(refusal_basis="excessive").refusal_basis_for_person

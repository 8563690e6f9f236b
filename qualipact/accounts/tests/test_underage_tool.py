"""The underage tool (/accounts/staff/underage/): a DPO, the account shown first, the birth
date and country the report gives, the same age rule as sign-up, a reason code recorded,
and never an adult's account erased."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import User
from qualipact.accounts.services import account_create, children
from qualipact.accounts.tests.test_age import EVERY_COUNTRY, born, expected_threshold
from qualipact.accounts.tests.test_children import consent_token
from qualipact.comms import tasks as comms_tasks
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import AuditEvent
from qualipact.web.roles import DPO_GROUP

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

URL = "/accounts/staff/underage/"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


def person(username: str, **extra) -> User:
    return account_create(
        username=username,
        email=f"{username}@example.org",
        password=None,
        email_verified=True,
        **extra,
    )


@pytest.fixture
def dpo(staff_account):
    staff_account.groups.add(Group.objects.get_or_create(name=DPO_GROUP)[0])
    return staff_account


@pytest.fixture
def dpo_client(client, dpo):
    client.force_login(dpo)
    return client


def report(client, username: str, *, birth_date: date, country="GB", reason="parent_report"):
    return client.post(
        URL,
        {
            "action": "report",
            "username": username,
            "birth_date": birth_date.isoformat(),
            "country": country,
            "reason": reason,
            "confirm": "on",
        },
        follow=True,  # the outcome is shown on the page the form redirects to
    )


def events(account: User, code: AccountsCode) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_id=account.subject_id, code=code))


def test_it_opens_the_tool_to_a_dpo_only(client, staff_account):
    young = person("young")
    thirteen = born(timezone.localdate(), years=13)
    member = person("morgan")
    client.force_login(member)
    response = report(client, "young", birth_date=thirteen)
    assert response.status_code == 403 and "data-staff-only" in response.text
    # Staff with an authenticator app, but not the DPO: refused, nothing erased.
    client.force_login(staff_account)
    for response in (client.get(URL), report(client, "young", birth_date=thirteen)):
        assert response.status_code == 403 and "data-role-only" in response.text
    assert User.objects.filter(pk=young.pk).exists()
    assert not events(young, AccountsCode.UNDERAGE_ACCOUNT_ERASED)


def test_it_shows_the_account_before_asking_for_the_report(dpo_client):
    young = person("young")
    response = dpo_client.post(URL, {"action": "find", "username": "YOUNG"})
    assert response.status_code == 200
    shown = response.text.split("data-underage-account", 1)[1].split("</dl>", 1)[0]
    assert "young" in shown
    assert young.created_at.strftime("%Y") in shown and "Active" in shown
    for field in ('name="birth_date"', 'name="country"', 'name="reason"', 'name="confirm"'):
        assert field in response.text
    # Looking is audited, and changes nothing.
    assert len(events(young, AccountsCode.UNDERAGE_ACCOUNT_OPENED)) == 1
    assert User.objects.filter(pk=young.pk).exists()


@pytest.mark.parametrize("username", ["nobody-here", "stella"])
def test_it_finds_no_account_that_does_not_exist_or_is_staff(dpo_client, username):
    response = dpo_client.post(URL, {"action": "find", "username": username})
    assert response.status_code == 400 and "No such account." in response.text
    assert "data-underage-account" not in response.text


def test_it_refuses_to_erase_an_adult_born_in_1992(dpo_client):
    grown = person("grown")
    response = report(dpo_client, "grown", birth_date=date(1992, 3, 14), country="BE")
    assert response.status_code == 400
    assert "not below the age threshold" in response.text
    assert User.objects.filter(pk=grown.pk).exists()
    (refused,) = events(grown, AccountsCode.UNDERAGE_REPORT_REFUSED)
    assert refused.data == {"reason": "parent_report", "refused": "adult"}
    assert refused.actor_kind == "staff"


@pytest.mark.parametrize("country", ["GB", "US", "BE"])
def test_it_erases_a_thirteen_year_old_and_records_the_reason_code(dpo_client, country):
    young = person("young")
    response = report(
        dpo_client,
        "young",
        birth_date=born(timezone.localdate(), years=13),
        country=country,
        reason="account_holder_report",
    )
    assert response.status_code == 200 and 'data-outcome="erased"' in response.text
    assert not User.objects.filter(pk=young.pk).exists()
    (erased,) = events(young, AccountsCode.UNDERAGE_ACCOUNT_ERASED)
    assert erased.actor_kind == "staff"
    # A code, never the date, the country or free text.
    assert erased.data == {"by": "staff", "reason": "account_holder_report"}


@pytest.mark.parametrize(
    "missing", [{"reason": ""}, {"reason": "because I said so"}, {"confirm": ""}]
)
def test_it_requires_a_reason_from_the_list_and_a_confirmation(dpo_client, missing):
    young = person("young")
    data = {
        "action": "report",
        "username": "young",
        "birth_date": born(timezone.localdate(), years=12).isoformat(),
        "country": "DE",
        "reason": "parent_report",
        "confirm": "on",
        **missing,
    }
    response = dpo_client.post(URL, {k: v for k, v in data.items() if v})
    assert response.status_code == 400
    assert User.objects.filter(pk=young.pk).exists()
    assert not events(young, AccountsCode.UNDERAGE_ACCOUNT_ERASED)


def test_it_keeps_a_child_whose_parent_consented_and_records_why(dpo_client):
    from qualipact.accounts.tests.test_children import child_sign_up

    parent = person("pat")
    child = child_sign_up()
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    response = report(dpo_client, "kim", birth_date=born(timezone.localdate(), years=12))
    assert response.status_code == 200 and 'data-outcome="has_consent"' in response.text
    assert User.objects.filter(pk=child.pk).exists()
    (kept,) = events(child, AccountsCode.UNDERAGE_ACCOUNT_KEPT)
    assert kept.data == {"by": "staff", "reason": "parent_report"}


@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_it_applies_the_sign_up_threshold_of_every_country(country, dpo):
    today = timezone.localdate()
    actor = Actor.staff(str(dpo.pk))
    at_threshold = person("ada")
    outcome = children.underage_report_apply(
        account=at_threshold,
        birth_date=born(today, years=expected_threshold(country)),
        country=country,
        reason="parent_report",
        actor=actor,
    )
    assert outcome == children.UnderageOutcome.ADULT
    assert User.objects.filter(pk=at_threshold.pk).exists()

    day_short = person("tess")
    outcome = children.underage_report_apply(
        account=day_short,
        birth_date=born(today, years=expected_threshold(country), days_short=1),
        country=country,
        reason="parent_report",
        actor=actor,
    )
    assert outcome == children.UnderageOutcome.ERASED
    assert not User.objects.filter(pk=day_short.pk).exists()


def test_it_never_erases_a_staff_account_through_the_service(dpo, staff_account):
    from qualipact.privacy.errors import ApplicationError

    with pytest.raises(ApplicationError):
        children.underage_report_apply(
            account=staff_account,
            birth_date=born(timezone.localdate(), years=12),
            country="GB",
            reason="parent_report",
            actor=Actor.staff(str(dpo.pk)),
        )
    assert User.objects.filter(pk=staff_account.pk).exists()

"""Marketing staff write and send newsletters; only staff with MFA reach the page."""

import pytest
from django.core.cache import cache

from conftest import PERSONAS, deliver_queued
from qualipact.comms.events import CommsCode
from qualipact.comms.models import Newsletter
from qualipact.comms.tests.test_newsletters import subscribe
from qualipact.privacy.audit import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
PAGE = "/staff/newsletters/"


@pytest.fixture
def staff_client(client, admin_account):
    client.force_login(admin_account)
    return client


def test_it_refuses_anonymous_people_and_non_staff(client, alice_account):
    assert client.get(PAGE).status_code == 302
    client.force_login(alice_account)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"subject_line": "x", "body": "y"}).status_code == 403
    assert not Newsletter.objects.exists()


def test_it_refuses_staff_without_mfa(client):
    from conftest import PASSWORD
    from qualipact.accounts.services import account_create

    staff = account_create(
        username="nomfa",
        email="nomfa@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    client.force_login(staff)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "data-mfa-required" in response.text


def test_staff_write_a_draft_and_send_it_to_the_consenting_audience(
    staff_client, staff_account, smtp, settings
):
    from django.test import Client

    settings.SITE_URL = "https://www.qualipact.example"
    subscribe(Client(), smtp, PERSONAS["alice"]["email"])
    response = staff_client.post(
        PAGE, {"subject_line": "November news", "body": "Our autumn programme is out."}
    )
    assert response.status_code == 302
    newsletter = Newsletter.objects.get()
    assert newsletter.sent_at is None
    page = staff_client.get(PAGE)
    assert "November news" in page.text and "draft" in page.text

    response = staff_client.post(f"{PAGE}{newsletter.pk}/send/", follow=True)
    assert response.status_code == 200
    assert "Queued for 1 subscriber" in response.text
    deliver_queued()
    sent = smtp.messages[-1]
    assert sent["Subject"] == "November news"
    assert sent["To"] == PERSONAS["alice"]["email"]
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    actors = set(
        AuditEvent.objects.filter(
            code__in=[CommsCode.NEWSLETTER_WRITTEN, CommsCode.NEWSLETTER_SENT]
        ).values_list("actor_kind", "actor_id")
    )
    assert actors == {("staff", str(staff_account.pk))}


def test_it_refuses_a_second_send_and_an_empty_issue(staff_client):
    response = staff_client.post(PAGE, {"subject_line": "  ", "body": "text"})
    assert response.status_code == 400
    assert not Newsletter.objects.exists()
    staff_client.post(PAGE, {"subject_line": "Once", "body": "Only once."})
    newsletter = Newsletter.objects.get()
    assert staff_client.post(f"{PAGE}{newsletter.pk}/send/").status_code == 302
    # Pressed again at once (a double-click, a reload): the first send's page, nothing sent.
    again = staff_client.post(f"{PAGE}{newsletter.pk}/send/")
    assert again.status_code == 303 and again["Location"].endswith("/sent/")
    cache.clear()  # later, outside the repeated-submission window: refused outright
    assert staff_client.post(f"{PAGE}{newsletter.pk}/send/").status_code == 409


def test_get_never_sends(staff_client):
    staff_client.post(PAGE, {"subject_line": "Draft", "body": "Body."})
    newsletter = Newsletter.objects.get()
    assert staff_client.get(f"{PAGE}{newsletter.pk}/send/").status_code == 405
    newsletter.refresh_from_db()
    assert newsletter.sent_at is None

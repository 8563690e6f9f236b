"""The parent's pages: consent, the dashboard of linked children, and nobody else's child."""

import json
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import reauthenticate
from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import ParentalConsent, User
from qualipact.accounts.services import account_create, children
from qualipact.accounts.tests.test_children import (
    CHILD_EMAIL,
    PARENT_EMAIL,
    PASSWORD,
    child_sign_up,
    consent_token,
)
from qualipact.comms import tasks as comms_tasks
from qualipact.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda email_id: None)


def adult(username: str, email: str, **extra) -> User:
    return account_create(
        username=username, email=email, password=PASSWORD, email_verified=True, **extra
    )


@pytest.fixture
def parent():
    return adult("pat", PARENT_EMAIL)


@pytest.fixture
def child():
    return child_sign_up()


@pytest.fixture
def linked_child(child, parent):
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    return User.objects.get(pk=child.pk)


CONFIRMED = {"delete-confirm": "on", "withdraw-confirm": "on"}


def child_urls(child_id) -> list[tuple[str, str]]:
    kwargs = {"child_id": child_id}
    return [
        ("get", reverse("accounts:child_detail", kwargs=kwargs)),
        ("get", reverse("accounts:child_download", kwargs=kwargs)),
        ("post", reverse("accounts:child_correct", kwargs=kwargs)),
        ("post", reverse("accounts:child_delete", kwargs=kwargs)),
        ("post", reverse("accounts:child_withdraw", kwargs=kwargs)),
    ]


# -- consent -------------------------------------------------------------------------


def test_it_explains_to_an_anonymous_parent_what_is_collected_and_asks_them_to_sign_in(
    client, child
):
    url = reverse("accounts:parental_consent", kwargs={"token": consent_token(child)})
    response = client.get(url)
    assert response.status_code == 200
    html = response.text
    assert "data-collected" in html and "no location" in html and "no marketing" in html
    assert f"/accounts/login/?next={url}" in html
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    # Agreeing needs a signed-in account.
    response = client.post(url, {"action": "grant"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert User.objects.get(pk=child.pk).status == User.Status.AWAITING_PARENT


def test_it_records_the_consent_of_a_signed_in_parent(client, child, parent):
    url = reverse("accounts:parental_consent", kwargs={"token": consent_token(child)})
    client.force_login(parent)
    assert "data-consent-grant" in client.get(url).text
    response = client.post(url, {"action": "grant"}, follow=True)
    assert response.status_code == 200 and "data-consent-granted" in response.text
    assert User.objects.get(pk=child.pk).status == User.Status.ACTIVE
    assert ParentalConsent.objects.get(subject=child.subject).parent == parent
    assert client.get(url).status_code == 400  # answered: the link is spent


def test_it_refuses_the_child_consenting_for_itself(client, child):
    User.objects.filter(pk=child.pk).update(email_verified_at=timezone.now(), status="active")
    url = reverse("accounts:parental_consent", kwargs={"token": consent_token(child)})
    client.force_login(User.objects.get(pk=child.pk))
    User.objects.filter(pk=child.pk).update(status="awaiting_parent")
    response = client.post(url, {"action": "grant"})
    assert response.status_code == 400 and "data-consent-refusal" in response.text
    assert ParentalConsent.objects.get(subject=child.subject).status == "requested"


def test_it_deletes_the_pending_account_when_the_parent_declines(client, child):
    url = reverse("accounts:parental_consent", kwargs={"token": consent_token(child)})
    response = client.post(url, {"action": "decline"}, follow=True)
    assert response.status_code == 200 and "data-consent-declined" in response.text
    assert not User.objects.filter(pk=child.pk).exists()


def test_it_answers_an_unknown_link_with_400(client):
    response = client.get(reverse("accounts:parental_consent", kwargs={"token": "nope"}))
    assert response.status_code == 400 and "data-invalid-link" in response.text


# -- the dashboard ---------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client, linked_child):
    for url in [reverse("accounts:children"), *(u for _, u in child_urls(linked_child.pk))]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_it_lists_only_the_parents_own_children(client, linked_child, parent):
    other_parent = adult("olga", "olga@example.org")
    other_child = child_sign_up(
        username="otto", email="otto@example.org", parent_email="olga@example.org"
    )
    children.parental_consent_grant(token=consent_token(other_child), parent=other_parent)
    client.force_login(parent)
    html = client.get(reverse("accounts:children")).text
    assert "kim" in html and "otto" not in html


def test_it_shows_every_stored_field_of_the_child(client, linked_child, parent):
    client.force_login(parent)
    response = client.get(reverse("accounts:child_detail", kwargs={"child_id": linked_child.pk}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.text
    data = children.child_data_view(parent=parent, child=linked_child).as_dict()
    for record in data["records"]:
        assert f'data-record="{record["model"]}"' in html
        for field in record["fields"]:
            assert f'data-field="{field["field"]}"' in html
    assert CHILD_EMAIL in html and PARENT_EMAIL in html
    assert linked_child.password not in html
    assert AuditEvent.objects.filter(
        subject_id=linked_child.subject_id, code=AccountsCode.CHILD_DATA_VIEWED
    ).exists()


def test_it_downloads_the_childs_data_as_a_json_attachment(client, linked_child, parent):
    client.force_login(parent)
    response = client.get(reverse("accounts:child_download", kwargs={"child_id": linked_child.pk}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "kim" not in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    document = json.loads(response.content)
    assert document["child_id"] == str(linked_child.pk)
    values = [f["value"] for r in document["records"] for f in r["fields"]]
    assert "kim" in values and CHILD_EMAIL in values


def test_it_corrects_the_childs_username(client, linked_child, parent):
    client.force_login(parent)
    reauthenticate(client)
    url = reverse("accounts:child_correct", kwargs={"child_id": linked_child.pk})
    response = client.post(url, {"username": "kim-b", "email": CHILD_EMAIL})
    assert response.status_code == 302
    assert User.objects.get(pk=linked_child.pk).username == "kim-b"
    response = client.post(url, {"username": "pat", "email": CHILD_EMAIL})
    assert response.status_code == 400
    assert User.objects.get(pk=linked_child.pk).username == "kim-b"


@pytest.mark.parametrize("action", ["child_delete", "child_withdraw"])
def test_it_deletes_the_child_only_once_the_parent_confirms(client, linked_child, parent, action):
    client.force_login(parent)
    reauthenticate(client)
    url = reverse(f"accounts:{action}", kwargs={"child_id": linked_child.pk})
    assert client.post(url, {}).status_code == 400
    assert User.objects.filter(pk=linked_child.pk).exists()
    response = client.post(url, {f"{action.removeprefix('child_')}-confirm": "on"}, follow=True)
    assert response.status_code == 200 and "data-child-deleted" in response.text
    assert not User.objects.filter(pk=linked_child.pk).exists()
    assert User.objects.filter(pk=parent.pk).exists()


def test_it_answers_404_for_every_child_and_user_not_linked_to_the_parent(
    client, linked_child, parent
):
    other_parent = adult("olga", "olga@example.org")
    other_child = child_sign_up(
        username="otto", email="otto@example.org", parent_email="olga@example.org"
    )
    children.parental_consent_grant(token=consent_token(other_child), parent=other_parent)
    child_sign_up(username="pia", email="pia@example.org", parent_email=PARENT_EMAIL)  # pending
    withdrawn = child_sign_up(username="wim", email="wim@example.org")
    children.parental_consent_grant(token=consent_token(withdrawn), parent=parent)
    ParentalConsent.objects.filter(subject=withdrawn.subject).update(status="withdrawn")
    adult("stella", "stella@example.org", is_staff=True)

    client.force_login(parent)
    reauthenticate(client)
    others = User.objects.exclude(pk=linked_child.pk).values_list("pk", flat=True)
    assert len(others) == 6
    for user_id in others:
        for method, url in child_urls(user_id):
            data = {"username": "taken-over", "email": "x@example.org", **CONFIRMED}
            response = getattr(client, method)(url, data) if method == "post" else client.get(url)
            assert response.status_code == 404, (url, user_id)
    assert User.objects.count() == 7
    assert not User.objects.filter(username="taken-over").exists()

    # The other parent sees their own child, and not this parent's.
    client.force_login(other_parent)
    reauthenticate(client)
    for method, url in child_urls(linked_child.pk):
        response = (
            getattr(client, method)(url, CONFIRMED) if method == "post" else (client.get(url))
        )
        assert response.status_code == 404, url
    assert User.objects.filter(pk=linked_child.pk).exists()


# -- inadvertent collection ------------------------------------------------------------


def test_it_erases_an_account_whose_holder_corrects_their_birth_date_to_a_childs(client):
    account = adult("teen", "teen@example.org")
    client.force_login(account)
    today = timezone.localdate()
    response = client.post(
        reverse("accounts:birth_date"),
        {"birth_date": date(today.year - 12, 1, 1).isoformat(), "country": "AT"},
        follow=True,
    )
    assert response.status_code == 200 and 'data-birth-date="erased"' in response.text
    assert not User.objects.filter(pk=account.pk).exists()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        subject_id=account.subject_id, code=AccountsCode.UNDERAGE_ACCOUNT_ERASED
    ).exists()


def test_it_keeps_an_adult_who_corrects_their_birth_date(client):
    account = adult("grown", "grown@example.org")
    client.force_login(account)
    response = client.post(
        reverse("accounts:birth_date"), {"birth_date": "1990-05-17", "country": "AT"}, follow=True
    )
    assert 'data-birth-date="kept"' in response.text
    assert User.objects.filter(pk=account.pk).exists()

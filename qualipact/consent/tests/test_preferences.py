import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from qualipact.consent.models import ConsentEvent, PreferenceToken
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import preference_link_issue
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.services import subject_create

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture
def subscriber():
    return subject_create(actor=Actor.system("test"))


@pytest.fixture
def link(subscriber):
    return preference_link_issue(subject=subscriber)


def page(token: str) -> str:
    return f"/preferences/{token}/"


def test_it_stores_only_a_hash_of_the_link_token(subscriber, link):
    stored = PreferenceToken.objects.get(subject=subscriber)
    assert link not in stored.token_hash
    assert len(link) >= 40


def test_the_page_shows_every_purpose_with_its_basis_and_sets_no_cookie(client, link):
    response = client.get(page(link))
    assert response.status_code == 200
    assert response.cookies == {}
    assert "no-store" in response["Cache-Control"]
    for purpose in PURPOSES.values():
        assert escape(purpose.label) in response.text
    assert "You agreed to it and can withdraw at any time." in response.text
    assert escape(consent_wording_current("marketing").text) in response.text
    # No box is ticked in advance: every consent purpose starts off.
    assert response.text.count('value="grant"') == 5


def test_giving_and_withdrawing_take_one_click_each(client, subscriber, link):
    wording = consent_wording_current("marketing")
    response = client.post(
        page(link), {"purpose": "marketing", "action": "grant", "wording": wording.sha256}
    )
    assert response.status_code == 302
    assert may_process(subscriber, "marketing")
    event = ConsentEvent.objects.get()
    assert (event.channel, event.wording_id) == ("preference_centre", wording.pk)

    client.post(page(link), {"purpose": "marketing", "action": "withdraw"})
    assert not may_process(subscriber, "marketing")
    assert "Consent withdrawn" in client.get(page(link)).text


def test_an_objection_from_the_page_stops_the_purpose(client, subscriber, link):
    client.post(page(link), {"purpose": "analytics", "action": "object"})
    assert not may_process(subscriber, "analytics")


def test_a_bad_choice_is_explained_and_changes_nothing(client, subscriber, link):
    response = client.post(page(link), {"purpose": "customer_support", "action": "grant"})
    assert response.status_code == 400
    assert "That could not be done. Nothing was changed." in response.text
    response = client.post(page(link), {"purpose": "marketing", "action": "sell"})
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("case", ["tampered", "erased"])
def test_an_invalid_link_gets_a_clear_error_and_changes_nothing(client, subscriber, link, case):
    token = link
    if case == "tampered":
        token = link[:-2] + ("aa" if not link.endswith("aa") else "bb")
    else:
        subscriber.erased_at = timezone.now()
        subscriber.save()
    response = client.post(page(token), {"purpose": "marketing", "action": "grant"})
    assert response.status_code == 404
    assert "This link is not valid" in response.text
    assert not ConsentEvent.objects.exists()


def test_it_lets_a_fresh_link_past_its_day_withdraw_but_not_grant(client, subscriber, link):
    PreferenceToken.objects.update(grants_until=timezone.now() - timedelta(seconds=1))
    wording = consent_wording_current("marketing")
    response = client.post(
        page(link), {"purpose": "marketing", "action": "grant", "wording": wording.sha256}
    )
    assert response.status_code == 400
    assert "not give consent" in response.text
    assert not ConsentEvent.objects.exists()
    assert client.post(page(link), {"purpose": "analytics", "action": "object"}).status_code == 302
    assert not may_process(subscriber, "analytics")


def api(client, method, link, body=None):
    call = getattr(client, method)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {link}"} if link else {}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return call("/api/preferences", **kwargs)


def test_the_api_lists_and_changes_the_same_choices(client, subscriber, link):
    listed = api(client, "get", link).json()
    marketing = next(p for p in listed["purposes"] if p["purpose"] == "marketing")
    assert marketing["choice"] == "consent" and not marketing["active"]
    changed = api(
        client,
        "post",
        link,
        {
            "purpose": "marketing",
            "action": "grant",
            "wording_sha256": marketing["wording"]["sha256"],
        },
    )
    assert changed.status_code == 200
    assert next(p for p in changed.json()["purposes"] if p["purpose"] == "marketing")["active"]
    assert changed.json()["history"][0]["channel"] == "api"
    assert may_process(subscriber, "marketing")


@pytest.mark.parametrize(
    ("token", "body", "status", "code"),
    [
        (None, None, 401, "unauthenticated"),
        ("not-a-real-link", None, 401, "invalid_link"),
        ("LINK", {"purpose": "customer_support", "action": "grant"}, 400, "application_error"),
        ("LINK", {"purpose": "marketing", "action": "sell"}, 422, "invalid_input"),
    ],
)
def test_the_api_answers_every_error_in_one_shape(client, link, token, body, status, code):
    token = link if token == "LINK" else token
    response = api(client, "post" if body else "get", token, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    assert not ConsentEvent.objects.exists()


def test_the_api_is_described_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/preferences" in schema["paths"]
    assert {"get", "post"} <= set(schema["paths"]["/api/preferences"])

"""Callers of the API, one per way it knows who is asking."""

import json

import pytest
from django.contrib.auth.models import Group


def post(client, path, payload, **extra):
    return client.post(path, json.dumps(payload), content_type="application/json", **extra)


def assert_error(response, status, code):
    """The one error shape, with this status and stable code; returns the error."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def alice_client(client, alice_account):
    client.force_login(alice_account)
    return client


@pytest.fixture
def dpo_user(staff_account):
    from qualipact.rights import dpo

    group, _ = Group.objects.get_or_create(name=dpo.DPO_GROUP)
    staff_account.groups.add(group)
    return staff_account


@pytest.fixture
def dpo_client(client, dpo_user):
    client.force_login(dpo_user)
    return client


@pytest.fixture
def link_token(alice_account):
    """A preference-link token for Alice, as her emails carry it."""
    from qualipact.consent.services import preference_link_issue

    return preference_link_issue(subject=alice_account.subject)

"""Helpers of the API tests (callers are fixtures in the root conftest.py)."""

import json

import pytest


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
def wsgi_keeps_the_test_database():
    """For calls through the WSGI app (schemathesis, generated clients): Django closes the
    database connection when a request ends, and the test database lives in that
    connection, so keep it open, as Django's own test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)

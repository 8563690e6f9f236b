"""Helpers of the API tests (callers are fixtures in the root conftest.py)."""

import json



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

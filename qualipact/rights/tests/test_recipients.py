"""No field of a rights form or of the rights API redirects a person's mail (item 1)."""

import pytest

from conftest import PERSONAS, reauthenticate
from qualipact.rights.models import DataRequest
from qualipact.rights.tests.test_web import sent_to, signed_in

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ELSEWHERE = "someone@elsewhere.test"


def test_an_api_request_never_sends_the_export_link_to_an_address_given_in_details(
    web, django_capture_on_commit_callbacks
):
    signed_in(web.client, "alice")
    reauthenticate(web.client)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.client.post(
            "/api/rights/requests",
            {"kind": "access", "confirm": True, "details": {"email": ELSEWHERE}},
            content_type="application/json",
        )
    assert response.status_code in (201, 422)
    recipients = {address for _, rcpts in web.smtp.envelopes for address in rcpts}
    assert ELSEWHERE not in recipients
    if response.status_code == 201:
        mine = sent_to(web.smtp, PERSONAS["alice"]["email"])
        assert any("Download your data here" in body for body in mine)
        (request,) = DataRequest.objects.all()
        assert "email" not in (request.details or "")


@pytest.mark.parametrize("kind", ["access", "restriction", "consent_withdrawal"])
def test_a_web_form_field_named_email_never_redirects_the_answer(web, kind):
    signed_in(web.client, "alice")
    reauthenticate(web.client)
    data = {"kind": kind, "confirm_export": "on", "email": ELSEWHERE, "details-email": ELSEWHERE}
    web.post("/rights/", data)
    recipients = {address for _, rcpts in web.smtp.envelopes for address in rcpts}
    assert recipients == {PERSONAS["alice"]["email"]}

"""schemathesis against /api/openapi.json, as every kind of caller: anonymous, a signed-in
session, a Bearer preference-link token, and a DPO (staff, in the DPO group, with TOTP).

Every operation gets examples that fit its schema and examples that break it; no answer
may be a 5xx or break the documented schema (status, content type, headers, body). The
number of examples is bounded and derandomized, so the run costs the same every time.
"""

import pytest
import schemathesis
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import internal_in

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

EXAMPLES = 12

CHECKS = [
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
]


def _load():
    """The document the site serves, with the site as the WSGI app schemathesis calls."""
    from qualipact.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = get_wsgi_application()
    return loaded


SCHEMA = _load()
OPERATIONS = sorted(op.ok().label for op in SCHEMA.get_all_operations())
CALLERS = ["anonymous", "session", "bearer", "dpo"]
fuzz = hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _session(user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}


@pytest.fixture
def headers_of(alice_account, dpo_user, link_token, wsgi_keeps_the_test_database):
    from qualipact.rights.tests.test_dpo import submit

    # Something in the queue for the DPO to see and act on.
    submit(alice_account.subject, "rectification", details={"correction": "Alicia"})
    return {
        "anonymous": {},
        "session": _session(alice_account),
        "bearer": {"Authorization": f"Bearer {link_token}"},
        "dpo": _session(dpo_user),
    }


def test_it_fuzzes_every_operation_of_the_document():
    from qualipact.api import api

    documented = api.get_openapi_schema()["paths"]
    assert len(OPERATIONS) == sum(len(methods) for methods in documented.values()) >= 11


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("label", OPERATIONS)
def test_it_answers_every_caller_within_the_schema_and_without_a_server_error(
    label, caller, headers_of
):
    operation = SCHEMA.find_operation_by_label(label)
    headers = headers_of[caller]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @fuzz
    @given(case=cases)
    def run(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:500])
        case.validate_response(response, checks=CHECKS, headers=headers)
        if response.status_code >= 400:
            assert internal_in(response.text) == [], response.text[:500]

    run()

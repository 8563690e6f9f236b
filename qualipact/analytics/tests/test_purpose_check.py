"""Counting a page view is processing for the purpose "analytics": the purpose check
decides, for the person the request comes from, not a header read on the side."""

import ast
from pathlib import Path

import pytest

import qualipact
from qualipact.analytics.models import DailyTotal
from qualipact.analytics.tests.conftest import FIREFOX, IP_GB
from qualipact.consent.services import objection_record, objection_withdraw
from qualipact.privacy.audit import Actor
from qualipact.privacy.services import subject_restrict

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def counted() -> int:
    return sum(DailyTotal.objects.values_list("views", flat=True))


@pytest.fixture
def signed_in(client, today, alice_account):
    client.force_login(alice_account)

    def get(path="/", **headers):
        return client.get(path, HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=IP_GB, **headers)

    return get


def test_it_counts_a_signed_in_person_who_did_not_object(signed_in):
    assert signed_in("/").status_code == 200
    assert counted() == 1


def test_it_does_not_count_a_signed_in_person_who_objected(signed_in, alice_account):
    subject = alice_account.subject
    actor = Actor.subject(subject.pk)
    objection_record(subject=subject, purpose="analytics", channel="web_form", actor=actor)
    assert signed_in("/").status_code == 200
    assert counted() == 0
    objection_withdraw(subject=subject, purpose="analytics", channel="web_form", actor=actor)
    signed_in("/")
    assert counted() == 1


def test_it_keeps_not_counting_once_the_signal_is_saved_on_the_account(signed_in):
    signed_in("/", HTTP_SEC_GPC="1")  # saved on the account as an objection
    signed_in("/")  # a later request without the header
    signed_in("/offers/")
    assert counted() == 0


def test_it_does_not_count_a_person_whose_processing_is_restricted(signed_in, alice_account):
    subject_restrict(subject=alice_account.subject, actor=Actor.system("test"), reason="contested")
    signed_in("/")
    assert counted() == 0


def test_it_still_counts_an_anonymous_visitor_and_honours_their_signal(visit):
    visit("/")
    visit("/", HTTP_DNT="1")
    assert counted() == 1


PACKAGE = Path(qualipact.__file__).parent
SIGNAL_READERS = {"browser_opted_out", "current_request_opted_out"}


def test_it_reads_the_browser_signal_only_in_the_purpose_check():
    """A feature asks `may_process`; the consent app's rule and middleware alone read GPC/DNT."""
    readers = set()
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "id", None) or getattr(node, "attr", None)
            if isinstance(node, ast.Name | ast.Attribute) and name in SIGNAL_READERS:
                readers.add(str(path.relative_to(PACKAGE)))
    assert readers == {"consent/middleware.py", "consent/rules.py"}

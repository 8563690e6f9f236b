"""The scan of the whole suite's logs for personal data (conftest.py) finds what it must.

Every record of the session, from every logger and every process the tests start, is
scanned when the session ends; these tests plant records and show that the scan catches
each kind of personal data, also from a logger that does not propagate to the root, and
that it passes what the site legitimately logs.
"""

import logging
import uuid

import pytest

from conftest import PLANTED_LOGGER, captured_log_records, log_leaks


@pytest.fixture
def planted():
    """A logger like gunicorn's or Django's: its own handler, not propagating to the root."""
    logger = logging.getLogger(PLANTED_LOGGER)
    handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger
    logger.removeHandler(handler)
    logger.propagate = True


def kinds(text: str) -> set[str]:
    return {leak.kind for leak in log_leaks([{"logger": "x", "test": "", "text": text}])}


def test_it_finds_what_axes_used_to_log_in_a_record_of_a_logger_that_does_not_propagate(
    planted,
):
    marker = uuid.uuid4().hex
    planted.warning(
        'AXES: New login failure by {username: "%s", ip_address: "%s"} %s',
        "alice.marchetti@example.org",
        "203.0.113.9",
        marker,
    )
    [record] = [r for r in captured_log_records() if marker in r["text"]]
    assert record["logger"] == PLANTED_LOGGER
    found = {leak.kind for leak in log_leaks([record])}
    assert found >= {"an email address", "a client IP address"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reply sent to Bob.Okonkwo@Example.NET", "an email address"),
        ("greeting Alice Marchetti", "a value a person typed"),
        ("phone +44 20 7946 0018 on file", "a value a person typed"),
        ("shipping to 12 Larkspur Row, Bristol BS1 4DJ", "a value a person typed"),
        ("request from 198.51.100.23 refused", "a client IP address"),
        ("request from 2001:db8::17 refused", "a client IP address"),
        ("Not Found: /unsubscribe/Zm9vYmFyYmF6cXV4cXV1eA/", "a link token"),
        ("Not Found: /accounts/password/reset/eyJ1IjoiNDIifQ:1tX:abc/", "a link token"),
    ],
)
def test_it_finds_each_kind_of_personal_data(text, kind):
    assert kind in kinds(text)


def test_it_finds_a_value_saved_in_a_declared_field_and_an_issued_token():
    leaks = log_leaks(
        [{"logger": "x", "test": "", "text": "hello kelly-the-tester, token a1B2c3D4e5F6g7H8"}],
        values={"kelly-the-tester"},
        tokens={"a1B2c3D4e5F6g7H8"},
    )
    assert {leak.kind for leak in leaks} == {"a value a person typed", "a link token"}


@pytest.mark.parametrize(
    "text",
    [
        "Not Found: /unsubscribe/[token]/",
        "Listening at: http://127.0.0.1:8000 (4242)",
        "Connected to sqla+sqlite:///var/broker.sqlite3",
        "deferred accounts.sign_up 6d2a0c6e-3f9a-4a8e-9a53-1f0c2b7e8d11 failed (RuntimeError)",
        "Message <173.42@qualipact.localhost> sent",
        "audit chain ok 12 events at 2026-11-30T12:30:45Z",
    ],
)
def test_it_passes_what_the_site_legitimately_logs(text):
    assert kinds(text) == set()


def test_it_does_not_take_a_word_of_our_own_routes_for_a_typed_value():
    """A typed username "fresh" and the route /preferences/<token>/fresh-link/ share a
    word; the log line names the route, not the person."""
    line = "Method Not Allowed (GET): /preferences/[token]/fresh-link/"
    leaks = log_leaks([{"logger": "x", "test": "", "text": line}], values={"fresh", "link"})
    assert leaks == []
    leaks = log_leaks([{"logger": "x", "test": "", "text": "typed: freshman"}], values={"freshman"})
    assert [leak.kind for leak in leaks] == ["a value a person typed"]


def test_it_judges_a_stored_address_as_an_address_not_as_a_typed_value():
    """A session's stored client address 127.0.0.1 is not found in a broker URL on the
    loopback, but a client address standing alone still is."""
    records = [
        {"logger": "celery", "test": "", "text": "Connected to redis://:**@127.0.0.1:6379/15"},
        {"logger": "axes", "test": "", "text": "failure from 203.0.113.9"},
    ]
    leaks = log_leaks(records, values={"127.0.0.1", "203.0.113.9"})
    assert [(leak.logger, leak.kind) for leak in leaks] == [("axes", "a client IP address")]

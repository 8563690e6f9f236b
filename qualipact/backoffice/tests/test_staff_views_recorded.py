"""No staff page shows a person's personal data without recording the view.

The staff pages are enumerated from the URL resolver (test_staff_urls.staff_routes). A
person is seeded with an account, a contact message and a request; every staff page that
answers GET is opened by a staff member holding every role, with each id in its address
filled from the seeded rows (and again asking for the person's records, `?records=1`).
Whenever a page shows any of the person's plaintext values, an event 111 by that staff
member for that person must have been written by that very request: a new staff page
that decrypts without going through a recording selector fails here.
"""

from __future__ import annotations

import html
import itertools
import re

import pytest

from qualipact.backoffice.tests.test_staff_urls import _CONVERTER, STAFF_ROUTES, staff_member
from qualipact.privacy.audit import EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

# Pages known to show personal data without recording it, each with the work that fixes
# it. Strict both ways: a page missing here fails, and so does a listed page once it
# records (then delete its line).
# Staff pages that show a person's data without recording it, with why: none.
KNOWN_UNRECORDED: set[tuple[str, str]] = set()

# Staff lookups that show a person only in answer to a form (POST), with what they post.
LOOKUPS = {
    "accounts:staff_underage": lambda seeded: {
        "action": "find",
        "username": seeded["account"].username,
    },
}


def _paths(route, ids: list[str]) -> list[str]:
    """The route's address with every combination of the seeded ids in its id slots."""
    slots = _CONVERTER.findall(route.route)
    if any(kind != "uuid" for kind, _ in slots):
        return []  # an id we cannot fill from the seeded rows
    paths = []
    for combination in itertools.product(ids, repeat=len(slots)):
        filled = iter(combination)
        paths.append("/" + _CONVERTER.sub(lambda _m, ids=filled: next(ids), route.route))
    return paths


def _shown(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v and (v in text or html.escape(v) in text)]


def _views_by(staff, subject_id) -> int:
    return AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, actor_id=str(staff.pk), subject_id=subject_id
    ).count()


def test_it_records_every_staff_view_that_shows_a_persons_data(client, alice_seeded):
    staff = staff_member("everyone", *Role)
    client.force_login(staff)
    subject_id = alice_seeded["account"].subject_id
    ids = [
        str(alice_seeded["request"].pk),
        str(alice_seeded["inquiry"].pk),
        str(alice_seeded["account"].pk),
        str(subject_id),
    ]
    opened, showing, unrecorded = 0, [], []
    for route in STAFF_ROUTES:
        for path in _paths(route, ids):
            for query in ("", "?records=1"):
                before = _views_by(staff, subject_id)
                response = client.get(path + query)
                if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                    continue
                opened += 1
                if _shown(response.content.decode(), alice_seeded["values"]):
                    showing.append(route.name)
                    if _views_by(staff, subject_id) == before:
                        unrecorded.append((route.name, query))
    for name, form in LOOKUPS.items():
        route = next(r for r in STAFF_ROUTES if r.name == name)
        before = _views_by(staff, subject_id)
        response = client.post(route.path, form(alice_seeded))
        if _shown(response.content.decode(), alice_seeded["values"]):
            showing.append(name)
            if _views_by(staff, subject_id) == before:
                unrecorded.append((name, "POST"))
    found = set(unrecorded)
    assert found - KNOWN_UNRECORDED == set(), "staff pages show data without recording the view"
    assert KNOWN_UNRECORDED - found == set(), "these now record the view: delete them above"
    # The check is not vacuous: pages opened, and the ones known to show data did.
    assert opened >= 5
    assert {"rights:dpo_request", "accounts:staff_underage"} <= set(showing)


def test_it_fills_the_id_slots_of_the_staff_routes():
    # Every staff route either takes no id or only ids this test can fill, so none is
    # silently skipped (a route with another kind of slot needs a seeded value here).
    unfillable = [
        route.route
        for route in STAFF_ROUTES
        if any(kind != "uuid" for kind, _ in re.findall(_CONVERTER.pattern, route.route))
    ]
    assert unfillable == []

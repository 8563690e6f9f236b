"""Every staff page gives each form field its own id, and every label names a field that
is there: a page with two forms whose fields share an id sends a screen reader, and a
click on a label, to the wrong box (WCAG 2.2 SC 1.3.1, 4.1.2).

The pages are enumerated as in test_staff_views_recorded: every staff route that answers
GET, with each id slot filled from seeded rows (a person's account, contact message and
request, and a complaint, so that a ticket's page shows all of its forms).
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from qualipact.backoffice.tests.test_staff_urls import STAFF_ROUTES, staff_member
from qualipact.backoffice.tests.test_staff_views_recorded import _paths
from qualipact.support.tests.staff_helpers import complaint_from
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


class _Ids(HTMLParser):
    """The ids of a page's elements and the `for` of its labels, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.label_for.append(str(found["for"]))


def _faults(text: str) -> list[str]:
    page = _Ids()
    page.feed(text)
    twice = [f"id {i!r} used {n} times" for i, n in Counter(page.ids).items() if n > 1]
    dangling = [f"label for missing id {i!r}" for i in page.label_for if i not in page.ids]
    return twice + dangling


def test_it_finds_a_shared_id_and_a_label_without_its_field():
    page = '<label for="id_body">A</label><textarea id="id_body"></textarea>'
    assert _faults(page) == []
    assert _faults(page + '<textarea id="id_body"></textarea>') == ["id 'id_body' used 2 times"]
    assert _faults('<label for="id_x">X</label>') == ["label for missing id 'id_x'"]


def test_it_gives_every_field_of_every_staff_page_its_own_id(client, alice_seeded):
    client.force_login(staff_member("everyone", *Role))
    complaint = complaint_from("bob")
    ids = [
        str(alice_seeded["request"].pk),
        str(alice_seeded["inquiry"].pk),
        str(alice_seeded["account"].pk),
        str(alice_seeded["account"].subject_id),
        str(complaint.pk),
    ]
    opened, faults = set(), {}
    for route in STAFF_ROUTES:
        for path in _paths(route, ids):
            response = client.get(path)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            opened.add(route.name)
            if found := _faults(response.content.decode()):
                faults[path] = found
    assert faults == {}
    # Not vacuous: both queues' ticket pages (answer, log, note, complaint forms) opened.
    assert {"support:staff_support_ticket", "support:staff_dpo_ticket"} <= opened

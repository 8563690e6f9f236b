"""The staff inbox reads its page from one index, in the page's order, however deep the
page, and counts open tickets from their own index entries: without these, a page of
100,000 tickets sorted every row of the queue first and counted every ticket it ever
had (bench/support.py). SQLite's plans are checked; PostgreSQL picks the same indexes
once its table is large, which the bench measures."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qualipact.contact.selectors import STATUS_ALL, STATUS_OPEN, Show, inquiry_inbox

pytestmark = [
    pytest.mark.django_db(databases=["default", "keys"]),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans"),
]


def plan_of(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " / ".join(row[-1] for row in cursor.fetchall())


@pytest.mark.parametrize("status", [STATUS_OPEN, STATUS_ALL])
def test_it_reads_an_inbox_page_from_its_index_alone(agent, status):
    rows = inquiry_inbox(queue="support", user=agent, show=Show.ALL, status=status)
    plan = plan_of(*rows[1000:1050].query.sql_with_params())
    assert "USING COVERING INDEX contact_inquiry_inbox" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index is in the page's order


def test_it_counts_the_open_tickets_from_their_own_index_entries(agent):
    rows = inquiry_inbox(queue="support", user=agent, show=Show.ALL, status=STATUS_OPEN)
    with CaptureQueriesContext(connection) as queries:
        rows.count()  # what the paginator asks
    plan = plan_of(queries[-1]["sql"])
    assert "COVERING INDEX contact_inquiry_queue (queue=? AND status=?)" in plan, plan

"""The staff inbox reads its page from one index, in the page's order, however deep the
page: without it, a page of 100,000 tickets sorted every row of the queue first
(bench/support.py). SQLite's plan is checked; PostgreSQL picks the same index once its
table is large, which the bench measures."""

import pytest
from django.db import connection

from qualipact.contact.selectors import STATUS_ALL, STATUS_OPEN, Show, inquiry_inbox

pytestmark = [
    pytest.mark.django_db(databases=["default", "keys"]),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan"),
]


@pytest.mark.parametrize("status", [STATUS_OPEN, STATUS_ALL])
def test_it_reads_an_inbox_page_from_its_index_alone(agent, status):
    rows = inquiry_inbox(queue="support", user=agent, show=Show.ALL, status=status)
    sql, params = rows[1000:1050].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(row[-1] for row in cursor.fetchall())
    assert "USING COVERING INDEX contact_inquiry_inbox" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index is in the page's order

"""The worker's database upkeep: SQLite's write-ahead logs are checkpointed off the
request path."""

import pytest
from django.db import connections

from qualipact.privacy.maintenance import sqlite_checkpoint
from qualipact.privacy.tasks import sqlite_checkpoint as sqlite_checkpoint_task


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_checkpoints_the_sqlite_write_ahead_logs():
    done = sqlite_checkpoint()
    expected = {alias for alias in connections if connections[alias].vendor == "sqlite"}
    assert set(done) == expected  # nothing on PostgreSQL
    for busy, logged, copied in done.values():
        assert busy == 0 and copied <= logged


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_runs_the_checkpoint_as_the_worker_task():
    assert set(sqlite_checkpoint_task()) == set(sqlite_checkpoint())

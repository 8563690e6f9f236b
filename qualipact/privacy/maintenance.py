"""Database upkeep that no request should pay for, run by the worker on a schedule."""

from __future__ import annotations

from django.db import connections


def sqlite_checkpoint() -> dict[str, list[int]]:
    """Copy SQLite's write-ahead logs back into the database files (PASSIVE: never waits
    for, nor blocks, readers and writers). Run by the worker every minute, so requests do
    not pay for it; nothing to do on PostgreSQL. Returns, per database, SQLite's answer:
    [busy, frames in the log, frames checkpointed]."""
    done = {}
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            done[alias] = list(cursor.fetchone())
    return done

"""The benchmarks still run against today's spine: each checks, before it times anything,
that its raw-SQL path reads and erases exactly what the library does, so a change to the
registry (a secret, a new table, a legal hold) that the bench does not follow fails here
rather than on the next person who measures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The benches make their own SQLite data set; a database or cache named for the tests
# (CI's PostgreSQL leg) is not theirs.
NOT_FOR_BENCHES = ("DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


@pytest.mark.parametrize(
    ("script", "verified"),
    [
        ("spine.py", "verified: raw SQL decrypts the same"),
        ("rights.py", "verified: raw SQL gathers the same"),
    ],
)
def test_the_benchmark_runs_and_its_raw_path_matches_the_library(script, verified):
    env = {k: v for k, v in os.environ.items() if k not in NOT_FOR_BENCHES}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--subjects", "60", "--samples", "5"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,  # ends only a hung run; a slow machine takes its time
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert verified in result.stdout
    assert "audit chain after both paths: ok" in result.stdout

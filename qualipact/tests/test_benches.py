"""The benchmarks still run against today's spine: each checks, before it times anything,
that its raw-SQL path reads and erases exactly what the library does, so a change to the
registry (a secret, a new table, a legal hold) that the bench does not follow fails here
rather than on the next person who measures. Their shared harness (bench/harness.py) is
tested directly below."""

import importlib.util
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The benches make their own SQLite data set; a database or cache named for the tests
# (CI's PostgreSQL leg) is not theirs.
NOT_FOR_BENCHES = ("DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def bench_run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `bench/<script>` with `args` in its own data directory (the test databases'
    URLs left out), and assert it exited 0; the timeout only ends a hung run."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_FOR_BENCHES}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.parametrize(
    ("script", "verified"),
    [
        ("spine.py", "verified: raw SQL decrypts the same"),
        ("rights.py", "verified: raw SQL gathers the same"),
    ],
)
def test_the_benchmark_runs_and_its_raw_path_matches_the_library(script, verified):
    result = bench_run(script, "--subjects", "60", "--samples", "5")
    assert verified in result.stdout
    assert "audit chain after both paths: ok" in result.stdout


def test_the_consent_benchmark_runs_and_prints_its_table():
    result = bench_run("consent.py", "--subjects", "300")
    assert "audience ids (5 runs) |" in result.stdout
    assert "load average: " in result.stdout


def test_the_dashboard_benchmark_runs_and_prints_its_table():
    # The bench exits non-zero when the page fails or its figures disagree with COUNT(*).
    result = bench_run("backoffice.py", "--requests", "200", "--runs", "2")
    assert "verified: the dashboard counts the same 200 requests" in result.stdout
    assert re.search(
        r"^dashboard page \(test client, DPO\) vs its SQL replayed \|", result.stdout, re.M
    )
    assert "load average: " in result.stdout
    assert "(target under 300 ms on SQLite)" in result.stdout


def test_the_support_benchmark_runs_and_its_pages_match_hand_written_sql():
    # The bench exits non-zero when an inbox page lists other tickets than hand-written
    # SQL finds, or when thread_of shows other texts than the raw path decrypts.
    result = bench_run("support.py", "--tickets", "400", "--runs", "2")
    out = result.stdout
    assert "verified: each inbox page lists the tickets and the count hand-written SQL" in out
    assert "verified: raw SQL decrypts the same 221 entries as thread_of" in out
    assert re.search(r"^inbox, open \(default\), first page vs its SQL replayed \|", out, re.M)
    assert re.search(r"^inbox, all, last page \(\d+\) vs its SQL replayed \|", out, re.M)
    assert re.search(r"^thread: thread_of \+ _thread.html vs raw read \+ AES-GCM \|", out, re.M)
    assert "load average: " in out
    assert "(target under 100 ms)" in out and "(target under 200 ms)" in out


def test_the_web_benchmark_serves_each_page_on_both_servers_and_prints_its_table():
    # The bench exits non-zero when a server never answers, when the bare site's answer
    # differs from the product's in status or size, or when a page is answered with
    # another status under load (a refused form, a session sent to sign in). Its servers
    # wait for their port to answer, on a busy machine too; the sign-in and the form sent
    # are the pages most easily broken by a change elsewhere.
    result = bench_run(
        "web.py",
        *("--accounts", "2", "--seconds", "1", "--connections", "2", "--runs", "1"),
        *("--pages", "contact-post", "account"),
    )
    out = result.stdout
    assert "verified: the bare site answers each page with the product's status and size" in out
    assert re.search(r"^contact-post: POST /contact/ \(0 B\) \| +[\d,.]+ \|", out, re.M)
    assert re.search(r"^account: GET /accounts/ \([\d,]+ B\) \| +[\d,.]+ \|", out, re.M)
    assert "load average: " in out
    assert "target: the product at least 0.70 of the bare site's req/s on each page" in out


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("harness", REPO / "bench" / "harness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs, as an import would: its dataclasses look themselves up.
    sys.modules["harness"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["harness"]
    return module


def test_it_prints_the_side_by_side_table_with_the_load_average(harness, capsys):
    harness.print_table([harness.Result("collect", [1.0, 2.0, 3.0], [0.5, 1.0, 1.5])])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("operation | library median ms | library p95 ms")
    assert lines[2].split(" | ")[0].strip() == "collect"
    assert lines[2].split(" | ")[-1].strip() == "2.00x"  # median ratio: 2.0 / 1.0
    assert lines[3].startswith("load average: ")
    assert lines[3].endswith(f"({os.cpu_count()} CPUs)")


def test_it_prints_rows_per_second_and_the_share_of_raw(harness, capsys):
    harness.print_throughput_table([harness.Throughput("sweep", 1000, [0.5, 0.5], [0.25, 0.25])])
    lines = capsys.readouterr().out.splitlines()
    cells = [cell.strip() for cell in lines[2].split(" | ")]
    assert cells == ["sweep", "1,000", "0.500", "2,000", "0.250", "4,000", "50%"]
    assert lines[3].startswith("load average: ")


def test_it_prints_both_servers_requests_per_second_and_the_ratio(harness, capsys):
    # Each figure is the median over the runs: rates 100 and 150 req/s against 400 and 600.
    product = [harness.LoadRun(200, 2.0, 10.0, 20.0), harness.LoadRun(300, 2.0, 30.0, 60.0)]
    bare = [harness.LoadRun(800, 2.0, 1.0, 2.0, errors=1), harness.LoadRun(1200, 2.0, 3.0, 6.0)]
    harness.print_served_table([harness.Served("home", product, bare)], names=("product", "bare"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("page | product req/s | product p50 ms | product p95 ms | bare")
    cells = [cell.strip() for cell in lines[2].split(" | ")]
    assert cells == ["home", "125.0", "20.0", "40.0", "500.0", "2.0", "4.0", "0.25", "1"]
    assert lines[3].startswith("load average: ")


def test_it_alternates_which_path_goes_first_with_a_setup_before_each(harness):
    calls = []
    library_s, raw_s = harness.alternating(
        lambda: calls.append("library"),
        lambda: calls.append("raw"),
        setup=lambda: calls.append("setup"),
        runs=2,
    )
    assert calls == ["setup", "library", "setup", "raw", "setup", "raw", "setup", "library"]
    assert len(library_s) == len(raw_s) == 2
    assert all(seconds >= 0 for seconds in library_s + raw_s)


def test_it_gives_the_median_and_p95(harness):
    assert harness.median_p95([float(n) for n in range(1, 101)]) == (50.5, pytest.approx(95.95))
    assert harness.median_p95([7.0]) == (7.0, 7.0)


def test_it_parses_the_size_arguments(harness):
    args = harness.parse_args(
        ["--large", "--samples", "3"], description="d", default=10, large=1000, samples=200
    )
    assert (args.subjects, args.samples, args.keep, args.seed) == (1000, 3, False, 2024)
    rows = harness.parse_args(["--rows", "5", "--keep"], description="d", default=1, size="rows")
    assert (rows.rows, rows.keep) == (5, True)
    with pytest.raises(SystemExit):
        harness.parse_args(["--subjects", "0"], description="d", default=10)
    with pytest.raises(SystemExit):
        harness.parse_args(
            ["--samples", "1"], description="d", default=10, samples=5, min_samples=2
        )


def test_it_draws_distinct_people_for_each_group(harness):
    pool = [uuid.uuid4() for _ in range(20)]
    samples = harness.draw_samples(pool, ("a", "b"), samples=4, spare=3, seed=1)
    drawn = [*samples["a"], *samples["b"], *samples.spare]
    assert len(drawn) == len(set(drawn)) == 11
    assert set(drawn) <= set(pool) and samples.intact == 20
    with pytest.raises(SystemExit):
        harness.draw_samples(pool, ("a", "b"), samples=10, spare=1, seed=1)


@pytest.mark.django_db(databases="__all__")
def test_it_writes_encrypted_rows_the_library_reads_and_the_raw_key_unwraps(harness):
    from qualipact.contact.models import Inquiry
    from qualipact.privacy import vault

    subject_id = uuid.uuid4()
    rows = harness.Rows()
    key = rows.subject(subject_id)
    values = {
        "subject": subject_id,
        "kind": "general",
        "name": "Alice Marchetti",
        "email": "alice.marchetti@example.org",
        "subject_line": "Question about invoices",
        "message": "Could you resend my invoice from March?",
    }
    rows.add(Inquiry, values, key)
    assert rows.flush() == 1
    vault.key_cache_clear()
    inquiry = Inquiry.objects.get(subject_id=subject_id)
    assert (inquiry.name, inquiry.email) == ("Alice Marchetti", "alice.marchetti@example.org")
    assert harness.raw_key(subject_id) == key


def test_the_retention_benchmark_runs_and_both_paths_keep_the_same_rows():
    # The bench exits non-zero when either path leaves other rows than those inside
    # their period, so a run that prints its table swept exactly the expired ones.
    result = bench_run("retention.py", "--rows", "900", "--runs", "1")
    assert "expired rows 900 | kept rows 100" in result.stdout
    assert re.search(r"sweep of expired emails \| +900 \|", result.stdout)
    assert "load average: " in result.stdout

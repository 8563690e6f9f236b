"""`manage.py run_site`, the heart of `make run`, on the embedded default."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def wait_for_page(url: str, process: subprocess.Popen, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, "run_site exited before serving"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                assert response.status == 200
                return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(f"nothing served at {url} within {timeout} s")


def run_once(var_dir: Path, port: int, log: Path) -> tuple[float, str, set[int]]:
    """Start the site, wait for the home page, stop it with Ctrl-C; return what happened."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(QUALIPACT_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1", EMAIL_PORT=str(free_port()))
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_site", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            seconds = wait_for_page(f"http://127.0.0.1:{port}/", process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/contact/") as response:
                assert response.status == 200
                assert "Set-Cookie" not in response.headers
            children = children_of(process.pid)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    return seconds, log.read_text(), children


def test_it_sets_up_serves_with_demo_data_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    _, output, children = run_once(tmp_path, port, tmp_path / "first.log")
    assert "created 25 people" in output
    assert len(children) == 4  # web server, worker, beat and the development mailbox
    assert "development mailbox on 127.0.0.1:" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    with sqlite3.connect(tmp_path / "qualipact.sqlite3") as db:
        inquiries = db.execute("SELECT count(*) FROM contact_inquiry").fetchone()[0]
    assert inquiries >= 25
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web server is still listening"

    # A second run reuses the databases and the demo data.
    _, output, _ = run_once(tmp_path, port, tmp_path / "second.log")
    assert "demo data already present" in output
    with sqlite3.connect(tmp_path / "qualipact.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM contact_inquiry").fetchone()[0] == inquiries

"""`manage.py run_site` and `make run`, on the embedded default.

Each test starts the real site (gunicorn and its workers, a Celery worker and its pool
process, Celery beat, the development mailbox) and stops it one way or another: Ctrl-C,
SIGTERM, a closed terminal, SIGKILL of run_site, SIGKILL of make, a child crashing. Then
every process of the tree, grandchildren included, must be gone: the tree is read from
/proc before the stop, and each process is told apart from a later one with its pid by its
start time.
"""

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import pytest

from conftest import (
    Proc,
    free_port,
    http_fetch,
    process_tree,
    server_start,
    server_stop,
    wait_until,
)
from qualipact.web.processes import group_signal

ROOT = Path(__file__).resolve().parents[3]
# Settings that would point the site away from its embedded default and from its port.
NOT_INHERITED = (
    "DATABASE_URL",
    "KEYS_DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SITE_URL",
    "PORT",
    "EMAIL_HOST",
    "DEV_MAILBOX",
    "QUALIPACT_ENV",
)
# What a whole site is, by the command line of each process: name -> how many.
SITE_PROCESSES = {
    "web server and its 2 workers": (r"-m gunicorn qualipact\.wsgi", 3),
    "Celery worker and its pool process": (r"-m celery -A qualipact worker", 2),
    "Celery beat": (r"-m celery -A qualipact beat", 1),
    "development mailbox": (r"-m django mailbox_serve", 1),
}


def site_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        QUALIPACT_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
        EMAIL_PORT=str(free_port()),
        **extra,
    )
    return env


@dataclass
class Site:
    """A running `run_site` (or `make run`) and what it printed."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, data: dict[str, str] | None = None) -> tuple[int, dict, str]:
        """A request that is retried while the site is up but the exchange fails."""
        return wait_until(
            lambda: http_fetch(self.url + path, data),
            what=f"an answer to {path}",
            processes=[self.process],
            details=self.output,
        )

    def tree(self) -> set[Proc]:
        return process_tree(self.process.pid)

    def complete_tree(self) -> set[Proc]:
        """Wait until every process of the site runs, grandchildren included; return them."""

        def complete() -> set[Proc] | None:
            tree = self.tree()
            commands = [proc.command() for proc in tree]
            for pattern, count in SITE_PROCESSES.values():
                if sum(bool(re.search(pattern, c)) for c in commands) != count:
                    return None
            return tree

        return wait_until(
            complete,
            what="every process of the site",
            processes=[self.process],
            details=lambda: f"{sorted(p.command() for p in self.tree())}\n{self.output()}",
        )


def start_site(var_dir: Path, log: Path, *, make: bool = False, demo: bool = True) -> Site:
    port = free_port()
    env = site_env(var_dir)
    if make:
        # `make run` itself, with this interpreter; the install step is up to date
        # (`-o` tells make not to remake it).
        bin_dir = Path(sys.executable).parent
        command = ["make", "-s", "-o", ".venv/.installed", "run", f"BIN={bin_dir}", f"PORT={port}"]
    else:
        command = [sys.executable, "manage.py", "run_site", "--port", str(port)]
        command += [] if demo else ["--no-demo"]
    process = server_start(command, log=log, cwd=ROOT, env=env)
    return Site(process, port, log)


def serving(site: Site) -> tuple[int, dict, str]:
    status, headers, body = site.get("/")
    assert status == 200, body
    return status, headers, body


def gone(tree: set[Proc]) -> bool:
    return not any(proc.alive() for proc in tree)


def assert_all_gone(site: Site, tree: set[Proc]) -> None:
    wait_until(
        lambda: gone(tree),
        what="every process of the site to end",
        details=lambda: f"{sorted(p.command() for p in tree if p.alive())}\n{site.output()}",
    )
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", site.port)) != 0, "the web server still listens"


@pytest.fixture
def cleanup():
    """Whatever a failing test left running is stopped: the site's group, then every
    process of its tree by pid (each checked against its start time)."""
    started: list[tuple[Site, set[Proc]]] = []
    yield started
    for site, tree in started:
        if site.process.poll() is None:
            server_stop(site.process)
        for proc in tree:
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """Databases migrated and demo data loaded once, for the tests that stop the site."""
    var_dir = tmp_path_factory.mktemp("site")
    env = site_env(var_dir)
    for command in (
        ["secrets_init"],  # the settings only read the secrets file
        ["migrate", "--database", "default"],
        ["migrate", "--database", "keys"],
        ["demo_data", "--people", "2"],
        ["offers_demo_catalogue"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip
    return var_dir


def test_it_sets_up_serves_with_demo_data_and_stops_everything_on_ctrl_c(tmp_path, cleanup):
    site = start_site(tmp_path, tmp_path / "first.log")
    cleanup.append((site, set()))
    serving(site)
    status, headers, _ = site.get("/contact/")
    assert status == 200 and "Set-Cookie" not in headers
    tree = site.complete_tree()
    cleanup.append((site, tree))
    group_signal(site.process, signal.SIGINT)  # what the terminal sends on Ctrl-C
    assert site.process.wait() == 0
    output = site.output()
    assert "created 25 people" in output
    assert "development mailbox on 127.0.0.1:" in output
    assert_all_gone(site, tree)
    with sqlite3.connect(tmp_path / "qualipact.sqlite3") as db:
        inquiries = db.execute("SELECT count(*) FROM contact_inquiry").fetchone()[0]
    assert inquiries >= 25

    # A second run reuses the databases and the demo data.
    site = start_site(tmp_path, tmp_path / "second.log")
    cleanup.append((site, set()))
    serving(site)
    tree = site.complete_tree()
    cleanup.append((site, tree))
    group_signal(site.process, signal.SIGINT)
    assert site.process.wait() == 0
    assert "demo data already present" in site.output()
    assert_all_gone(site, tree)
    with sqlite3.connect(tmp_path / "qualipact.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM contact_inquiry").fetchone()[0] == inquiries


# How each test stops the site, and the exit status run_site (or make) then has:
# 0 for a stop it was asked for, 1 for a child that failed, None when it was killed.
STOPS = {
    "sigterm": (signal.SIGTERM, 0),
    "closed_terminal": (signal.SIGHUP, 0),
    "sigkill": (signal.SIGKILL, -signal.SIGKILL),
}


@pytest.mark.parametrize("stop", list(STOPS))
def test_it_leaves_no_process_behind_when_run_site_is_stopped_or_killed(
    prepared, tmp_path, cleanup, stop
):
    signum, status = STOPS[stop]
    site = start_site(prepared, tmp_path / "site.log", demo=False)
    cleanup.append((site, set()))
    serving(site)
    tree = site.complete_tree()
    cleanup.append((site, tree))
    site.process.send_signal(signum)  # run_site alone: its children see nothing of it
    assert site.process.wait() == status
    assert_all_gone(site, tree)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_it_leaves_no_process_behind_when_make_run_is_killed(prepared, tmp_path, cleanup):
    site = start_site(prepared, tmp_path / "make.log", make=True)
    cleanup.append((site, set()))
    serving(site)
    tree = site.complete_tree()
    cleanup.append((site, tree))
    [run_site] = [p for p in tree if "run_site" in p.command()]
    assert proc_parent(run_site) == site.process.pid  # make runs it, no shell in between
    site.process.send_signal(signal.SIGKILL)  # make alone
    assert site.process.wait() == -signal.SIGKILL
    assert_all_gone(site, tree)


def proc_parent(proc: Proc) -> int:
    fields = proc.stat()
    assert fields is not None
    return int(fields[1])


# The two children with children of their own; beat and the mailbox take the same path.
@pytest.mark.parametrize("crashing", ["web", "worker"])
def test_it_stops_every_process_when_one_child_crashes(prepared, tmp_path, cleanup, crashing):
    pattern = {"web": r"-m gunicorn", "worker": r"-m celery -A qualipact worker"}[crashing]
    site = start_site(prepared, tmp_path / "site.log", demo=False)
    cleanup.append((site, set()))
    serving(site)
    tree = site.complete_tree()
    cleanup.append((site, tree))
    [child] = [
        p for p in tree if proc_parent(p) == site.process.pid and re.search(pattern, p.command())
    ]
    os.kill(child.pid, signal.SIGKILL)  # the child alone: its own children stay behind
    assert site.process.wait() == 1
    assert f"the {crashing} process stopped unexpectedly" in site.output()
    assert_all_gone(site, tree)


def mailbox_messages(var_dir: Path) -> list:
    new = var_dir / "mail" / "new"
    if not new.is_dir():
        return []
    return [message_from_bytes(path.read_bytes()) for path in sorted(new.iterdir())]


def text_of(message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(
        part.get_payload(decode=True).decode(errors="replace")
        for part in parts
        if part.get_content_type() == "text/plain"
    )


def test_it_builds_emailed_links_on_the_port_the_site_serves(prepared, tmp_path, cleanup):
    """PORT=<other port> make run: the emails the running site sends link to that port."""
    site = start_site(prepared, tmp_path / "site.log", demo=False)
    cleanup.append((site, set()))
    serving(site)
    tree = site.complete_tree()
    cleanup.append((site, tree))
    expected = f"http://127.0.0.1:{site.port}"
    # The web server, the worker and beat all build links from the same address.
    environments = {
        name: [
            Path(f"/proc/{p.pid}/environ").read_bytes().split(b"\0")
            for p in tree
            if re.search(pattern, p.command())
        ]
        for name, (pattern, _) in SITE_PROCESSES.items()
    }
    for name, envs in environments.items():
        for env in envs:
            assert f"SITE_URL={expected}".encode() in env, name

    # A newsletter sign-up and an account sign-up, through HTTP, as a person would.
    _, _, form = site.get("/newsletter/")
    wording = re.search(r'name="wording" value="([0-9a-f]+)"', form).group(1)
    status, _, _ = site.get(
        "/newsletter/", {"email": "nina.port@example.org", "wording": wording, "agree": "on"}
    )
    assert status == 200
    status, _, details = site.get(
        "/accounts/signup/", {"birth_date": "1990-04-05", "country": "SE"}
    )
    assert status == 200
    age = re.search(r'name="age" value="([^"]+)"', details).group(1)
    status, _, _ = site.get(
        "/accounts/signup/details/",
        {
            "age": age,
            "username": "nina",
            "email": "nina.account@example.org",
            "password": "seven tall giraffes read poetry at noon",
        },
    )
    assert status == 200

    # The worker sends both through the development mailbox.
    recipients = {"nina.port@example.org", "nina.account@example.org"}

    def ours() -> list:
        return [m for m in mailbox_messages(prepared) if m["To"] in recipients]

    messages = wait_until(
        lambda: (found := ours()) and {m["To"] for m in found} == recipients and found,
        what="both emails in the development mailbox",
        processes=[site.process],
        details=site.output,
    )
    links = [
        link
        for message in messages
        for link in re.findall(r"https?://[^\s<>\"]+", text_of(message))
    ]
    sections = {urllib.parse.urlsplit(link).path.split("/")[1] for link in links}
    assert {"newsletter", "accounts"} <= sections, links
    assert all(link.startswith(expected + "/") for link in links), links
    # And they work there.
    for link in links:
        status, _, _ = site.get(link.removeprefix(expected))
        assert status == 200, link

"""qualipact.web.processes: children that never outlive their parent, stopped by group.

Each test runs a small tree of real processes: a parent (started the way run_site starts
its children) and its own children, then kills or stops the parent and shows that every
process of the tree has ended, from /proc.
"""

import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import Proc, process_tree, server_start, server_stop, wait_until
from qualipact.web.processes import group_stop

ROOT = Path(__file__).resolve().parents[3]
GRACE = 0.5  # seconds between SIGTERM and SIGKILL in these trees

# A process that ignores SIGTERM: only SIGKILL ends it.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def program(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def start(tmp_path: Path, body: str):
    """Start `body` as the parent of a tree; wait until it printed 'ready' (it prints
    that once its own children run), and return it with its tree."""
    log = tmp_path / "tree.log"
    parent = server_start(program(body), log=log, cwd=ROOT)
    wait_until(
        lambda: "ready" in log.read_text(),
        what="the tree to start",
        processes=[parent],
        details=log.read_text,
    )
    return parent, process_tree(parent.pid)


def gone(tree: set[Proc]) -> bool:
    return not any(proc.alive() for proc in tree)


def assert_ends(tree: set[Proc]) -> None:
    wait_until(
        lambda: gone(tree),
        what="every process of the tree to end",
        details=lambda: str(sorted(p.command() for p in tree if p.alive())),
    )


@pytest.fixture
def trees():
    """Whatever a failing test left running is killed, by pid checked against start time."""
    started: list[set[Proc]] = []
    yield started
    for tree in started:
        for proc in tree:
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)


def test_it_ends_a_child_when_its_parent_is_killed_outright(tmp_path, trees):
    parent, tree = start(
        tmp_path,
        """
        import sys, time
        from qualipact.web.processes import child_start
        child_start([sys.executable, "-c", "import time; time.sleep(600)"])
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    trees.append(tree)
    assert len(tree) == 1
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert_ends(tree)


def test_it_kills_a_supervised_child_that_ignores_sigterm_once_its_parent_is_gone(tmp_path, trees):
    # Like Celery beat, which can lose a SIGTERM while it loads its schedule.
    parent, tree = start(
        tmp_path,
        f"""
        import sys, time
        from qualipact.web.processes import child_start
        child_start([sys.executable, "-c", '''
        import signal, time
        from qualipact.web.processes import supervised_guard
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervised_guard(grace={GRACE})
        time.sleep(600)
        '''])
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    trees.append(tree)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert_ends(tree)


def test_it_ends_a_forked_worker_whose_server_was_killed_outright(tmp_path, trees):
    # What gunicorn's post_fork hook and Celery's worker_process_init do in each worker.
    parent, tree = start(
        tmp_path,
        f"""
        import os, signal, sys, time
        from qualipact.web.processes import orphan_guard
        guarded, told = os.pipe()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            orphan_guard(grace={GRACE})
            os.write(told, b"!")
            time.sleep(600)
            os._exit(0)
        os.read(guarded, 1)  # the worker's guard is in place
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    trees.append(tree)
    assert len(tree) == 1
    # The server's group is spared: only the kernel and the watchdog can end the worker.
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert_ends(tree)


def test_it_stops_a_child_with_its_whole_group_escalating_to_sigkill(tmp_path, trees):
    parent, tree = start(
        tmp_path,
        f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", {STUBBORN!r}])
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    trees.append(tree)
    assert len(tree) == 1
    assert group_stop(parent, grace=GRACE) == -signal.SIGTERM
    assert_ends(tree)


def test_server_stop_ends_a_test_server_and_everything_it_started(tmp_path, trees):
    parent, tree = start(
        tmp_path,
        """
        import subprocess, sys, time
        for _ in range(2):
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    trees.append(tree)
    assert len(tree) == 2
    server_stop(parent)
    assert_ends(tree)


def test_it_does_not_watch_a_process_that_only_inherited_the_supervisors_pid(tmp_path):
    # A process started further down (by a shell, by make) has another parent than the
    # supervisor named in its environment, which is alive: it must not stop itself.
    log = tmp_path / "tree.log"
    parent = server_start(
        program(
            """
            import subprocess, sys
            subprocess.run([sys.executable, "-c", '''
            import threading
            from qualipact.web.processes import supervised_guard
            supervised_guard()
            names = [thread.name for thread in threading.enumerate()]
            print("watched" if "orphan-guard" in names else "not watched", flush=True)
            '''], check=True)
            """
        ),
        log=log,
        cwd=ROOT,
    )
    assert parent.wait() == 0
    assert log.read_text().strip() == "not watched"

"""Child processes that never outlive the process that started them.

`manage.py run_site` starts the web server, the Celery worker, Celery beat and the
development mailbox; the tests start servers and workers of their own. Each of them:

- runs in a session and process group of its own (`setsid`), so a terminal's Ctrl-C
  reaches only the supervisor, which then stops its children in order, and so a child's
  own children (gunicorn's workers, Celery's pool processes) can be stopped with it by
  signalling the group (`group_stop`), never by name;
- is bound to its parent's life: on Linux the kernel sends it SIGTERM when the parent
  dies, however it dies, SIGKILL included (`prctl(PR_SET_PDEATHSIG)`, prctl(2));
- watches its parent too, where the server lets us run code in it: gunicorn's master
  (`on_starting`), Celery's worker (`worker_init`) and beat (`beat_init`) call
  `supervised_guard()`, a watchdog thread that sends SIGTERM once the parent is gone and
  SIGKILL if that did not end the process (Celery beat, for one, loses a SIGTERM that
  arrives while it loads its schedule);
- hands the same binding on to its own children: gunicorn's `post_fork` hook
  (`qualipact/web/gunicorn_conf.py`) and Celery's `worker_process_init` signal
  (`qualipact/celery.py`) call `orphan_guard()` in each worker and pool process
  (PR_SET_PDEATHSIG alone fires when the parent *thread* that forked it ends, which for
  a pool process restarted by a helper thread is not the parent's death).

Elsewhere than Linux there is no PR_SET_PDEATHSIG: the groups, the watchdogs and the
supervisor's own checks still apply.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# How often a watchdog or a stopping supervisor looks again.
POLL_SECONDS = 0.1
WATCHDOG_SECONDS = 1.0
# Seconds a process has between SIGTERM and SIGKILL, when it is stopped.
STOP_GRACE_SECONDS = 15.0
# Set by `child_start` in the child's environment: the pid the child must not outlive.
SUPERVISOR_ENV = "QUALIPACT_SUPERVISOR_PID"


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


# Resolved once, in the parent: a forked child only calls it (no dynamic loading between
# fork and exec, where only async-signal-safe work belongs).
_prctl = _load_prctl()


def parent_death_signal_set(signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `signum` to this process when its parent dies (Linux
    prctl PR_SET_PDEATHSIG); returns False where that is not available."""
    if _prctl is None:
        return False
    return _prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0


def _bound_to(parent: int) -> Callable[[], None]:
    """A `preexec_fn`: runs in the child between fork and exec."""

    def bind() -> None:
        parent_death_signal_set(signal.SIGTERM)
        # The parent may have died before the line above ran; then no signal will come.
        if os.getppid() != parent:
            os._exit(1)

    return bind


def child_start(command: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """Start `command` in a session and process group of its own (its pid is the group
    id), bound to the life of this process. `popen` goes to `subprocess.Popen`; the
    child's environment (`env`, else ours) gets SUPERVISOR_ENV, for `supervised_guard`."""
    env = dict(popen.pop("env", None) or os.environ)
    env[SUPERVISOR_ENV] = str(os.getpid())
    return subprocess.Popen(  # noqa: S603 (commands are built by our own code)
        list(command),
        start_new_session=True,
        preexec_fn=_bound_to(os.getpid()),
        env=env,
        **popen,
    )


def group_alive(pgid: int) -> bool:
    """Whether any process (a zombie included) is still in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_signal(child: subprocess.Popen[Any], signum: int) -> None:
    """Send `signum` to the child's whole process group (see `child_start`)."""
    _signal_group(child.pid, signum)


def group_stop(
    child: subprocess.Popen[Any],
    *,
    grace: float = STOP_GRACE_SECONDS,
    signum: int = signal.SIGTERM,
) -> int:
    """Stop the child and everything in its process group, and reap the child; returns
    its exit status. See `groups_stop`."""
    groups_stop([child], grace=grace, signum=signum)
    return child.wait()


def groups_stop(
    children: Sequence[subprocess.Popen[Any]],
    *,
    grace: float = STOP_GRACE_SECONDS,
    signum: int = signal.SIGTERM,
) -> None:
    """Stop each child and everything in its process group, and reap the children.

    Sends `signum` (SIGTERM) to every group at once (a group is its leader's pid, as
    `child_start` makes it), waits until every leader has exited and every group is
    empty, and after `grace` seconds sends SIGKILL to whatever is left. A child that
    has already exited still has its group emptied: its own children go too. It gives
    up waiting `grace` seconds after the SIGKILL: what is left then is a zombie that
    only its new parent can reap."""
    for child in children:
        _signal_group(child.pid, signum)
    deadline = time.monotonic() + grace
    killed = False
    while True:
        left = []
        for child in children:
            child.poll()  # reap a leader as soon as it exits
            if child.returncode is None or group_alive(child.pid):
                left.append(child)
        if not left:
            return
        if time.monotonic() >= deadline:
            if killed:
                for child in left:
                    child.wait()  # killed: it ends, and is reaped here
                return
            for child in left:
                _signal_group(child.pid, signal.SIGKILL)
            killed = True
            deadline = time.monotonic() + grace
        time.sleep(POLL_SECONDS)


def orphan_guard(
    *,
    parent: int | None = None,
    signum: int = signal.SIGTERM,
    interval: float = WATCHDOG_SECONDS,
    grace: float = STOP_GRACE_SECONDS,
) -> None:
    """Make this process stop when its parent (pid `parent`, by default the current
    parent) dies: the kernel's parent-death signal, plus a daemon thread that sends
    `signum` to this process once its parent has changed, and SIGKILL if that did not end
    it within `grace` seconds. Call it in a process that a server forks for itself (a
    gunicorn worker, a Celery pool process), or through `supervised_guard`."""
    parent = os.getppid() if parent is None else parent
    parent_death_signal_set(signum)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signum)
        time.sleep(grace)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-guard", daemon=True).start()


def supervised_guard(*, grace: float = STOP_GRACE_SECONDS) -> None:
    """`orphan_guard` for a server started by `child_start` (run_site's children, servers
    started by the tests), watching the pid that started it; nothing otherwise (a server
    that systemd or a container runs stays as it is)."""
    supervisor = os.environ.get(SUPERVISOR_ENV, "")
    if not supervisor.isdigit():
        return
    if os.getppid() != int(supervisor) and _alive(int(supervisor)):
        return  # started further down (the variable was inherited): not ours to watch
    orphan_guard(parent=int(supervisor), grace=grace)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

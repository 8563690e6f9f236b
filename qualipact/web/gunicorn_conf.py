"""gunicorn settings for `manage.py run_site` (`--config python:qualipact.web.gunicorn_conf`).

Only hooks that bind the server's life to its parent's: the master stops when run_site is
gone, and each worker when the master is gone (SIGKILL included), instead of serving on
as orphans. See qualipact/web/processes.py.
"""

from typing import Any

from qualipact.web.processes import orphan_guard, supervised_guard

# No control socket: nothing here uses gunicornc, and its default path is one per user,
# so two copies of the site on one machine would share it.
control_socket_disable = True


def on_starting(server: Any) -> None:
    supervised_guard()


def post_fork(server: Any, worker: Any) -> None:
    orphan_guard(parent=worker.ppid)

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

from qualipact.web.processes import orphan_guard, supervised_guard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualipact.settings")

app = Celery("qualipact")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _stop_with_the_worker(**kwargs: Any) -> None:
    """A pool process stops when the worker that forked it dies, even by SIGKILL, instead
    of living on as an orphan (see qualipact/web/processes.py)."""
    orphan_guard()


@worker_init.connect
@beat_init.connect
def _stop_with_the_supervisor(**kwargs: Any) -> None:
    """A worker or beat that run_site (or a test) started stops when that process is
    gone, even if it missed the SIGTERM that the kernel sent (see qualipact/web/processes.py)."""
    supervised_guard()

"""A copy of every log record, for the test suite's personal-data scan of the logs.

The test suite (conftest.py) proves that nothing a person typed, or that identifies
them, reaches a log line, for every logger: ours, Django's, and third parties' (axes,
allauth, celery, gunicorn, aiosmtpd...), including loggers that do not propagate to the
root logger and processes the tests start (the site, workers). When the environment
variable `QUALIPACT_LOG_SCAN_DIR` names a directory, settings.py calls `tee_to_directory`,
and every record any logger of this process hands to its handlers is also appended, as
the site's handler would write it (link tokens redacted), to `<pid>.jsonl` there. Nothing
happens without the variable: production never sets it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from qualipact.web.logformat import RedactLinkTokens

ENV = "QUALIPACT_LOG_SCAN_DIR"
_TEE_MARK = "_qualipact_tee"


def render(record: logging.LogRecord) -> str:
    """The record's text as the site's console handler writes it (tokens redacted), with
    its exception and stack, without the time and level."""
    copy = logging.makeLogRecord(dict(record.__dict__))
    RedactLinkTokens().filter(copy)
    formatter = logging.Formatter("%(message)s")
    return formatter.format(copy)


def tee_install(sink: Callable[[logging.LogRecord], None]) -> None:
    """Give every record that any logger hands to its handlers to `sink` as well.

    Hooks `Logger.callHandlers`, which every record passes once, from the logger that
    made it, whether or not that logger propagates and whatever its handlers are.
    """
    original: Any = logging.Logger.callHandlers
    if getattr(original, _TEE_MARK, False):
        return

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # the copy must never break logging
            sink(record)
        original(self, record)

    setattr(call_handlers, _TEE_MARK, True)
    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]


def tee_to_directory(directory: str) -> None:
    """Append every record of this process (and of its forks) to `<directory>/<pid>.jsonl`."""
    lock = threading.Lock()
    state: dict[str, Any] = {"pid": None, "file": None}

    def sink(record: logging.LogRecord) -> None:
        line = json.dumps(
            {
                "logger": record.name,
                "level": record.levelname,
                "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
                "text": render(record),
            }
        )
        with lock:
            if state["pid"] != os.getpid():  # a forked worker writes its own file
                state["pid"] = os.getpid()
                state["file"] = open(  # noqa: SIM115 - kept open for the process's life
                    os.path.join(directory, f"{os.getpid()}.jsonl"), "a", encoding="utf-8"
                )
            state["file"].write(line + "\n")
            state["file"].flush()

    tee_install(sink)

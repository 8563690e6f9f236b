import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from qualipact.web.processes import supervised_guard


class Command(BaseCommand):
    help = (
        "Development only: run an SMTP server (aiosmtpd) on --host:--port (EMAIL_HOST and "
        "EMAIL_PORT by default) that keeps every email it receives in the Maildir "
        "--maildir (QUALIPACT_VAR_DIR/mail by default) and hands those sent to a domain of "
        "INBOUND_MAIL_ROUTES to the function named there (support replies go into their "
        "tickets). Runs until SIGINT or SIGTERM. Writes the Maildir and what the routes "
        "write; deletes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default=settings.EMAIL_HOST)
        parser.add_argument("--port", type=int, default=settings.EMAIL_PORT)
        parser.add_argument("--maildir", default=str(settings.VAR_DIR / "mail"))

    def handle(self, *args: object, **options: Any) -> None:
        # aiosmtpd is a development dependency: imported only when the mailbox runs.
        from aiosmtpd.controller import Controller

        from qualipact.web.mailbox import RoutingMailbox

        # Under run_site (or a test), this process ends with the one that started it.
        supervised_guard()
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        handler = RoutingMailbox(options["maildir"], routes=settings.INBOUND_MAIL_ROUTES)
        controller = Controller(handler, hostname=options["host"], port=options["port"])
        controller.start()
        try:
            self.stdout.write(
                f"mailbox listening on {options['host']}:{options['port']}, keeping every "
                f"email in {options['maildir']}/new"
            )
            self.stdout.flush()
            while not stop.wait(1.0):
                pass
        finally:
            controller.stop()
        self.stdout.write("mailbox stopped")

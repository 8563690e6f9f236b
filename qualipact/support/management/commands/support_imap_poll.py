import imaplib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from qualipact.privacy.errors import ApplicationError
from qualipact.support.inbound import PollReport, mailbox_poll


class Command(BaseCommand):
    help = (
        "Read the unseen emails of the support mailbox over IMAP (SUPPORT_IMAP_HOST, "
        "_PORT, _USER, _PASSWORD, _FOLDER) and take each into the thread of the ticket "
        "whose reply address it was sent to (support.inbound). Each email read is flagged "
        "\\Seen in the mailbox or, with SUPPORT_IMAP_DELETE or --delete, deleted from it "
        "(expunged). Adds messages to tickets; deletes nothing else."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--delete",
            action="store_true",
            default=None,
            help="delete each email read instead of flagging it seen",
        )

    def handle(self, *args: object, **options: Any) -> None:
        if not settings.SUPPORT_IMAP_HOST:
            raise CommandError("SUPPORT_IMAP_HOST is not set: there is no mailbox to read")
        self.verbosity = int(options["verbosity"])
        try:
            report = mailbox_poll(delete=options["delete"], progress=self._progress)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        except (OSError, imaplib.IMAP4.error) as error:
            # The server's words may echo the user name: the error's kind only.
            raise CommandError(
                f"IMAP failed ({type(error).__name__}): check SUPPORT_IMAP_HOST, _PORT, "
                "_USER and _PASSWORD"
            ) from None
        self.stdout.write(str(report))

    def _progress(self, report: PollReport) -> None:
        if self.verbosity >= 2:
            self.stdout.write(f"... {report}")

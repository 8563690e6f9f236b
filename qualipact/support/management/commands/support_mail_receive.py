import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from qualipact.privacy.errors import ApplicationError
from qualipact.support.inbound import EMAIL_MAX_BYTES, email_receive


class Command(BaseCommand):
    help = (
        "Read one email (RFC 5322, as received) from standard input and take it into the "
        "thread of the ticket whose reply address it was sent to (support.inbound). For an "
        "MTA's pipe or a mail provider's forwarding script; --recipient passes the "
        "envelope's RCPT TO address(es) when the caller knows them. Adds at most one "
        "message (and its accepted files) to one ticket; deletes nothing. Exits 0 when "
        "the email was added, was there already, or was refused on purpose (unknown "
        "address, automatic reply, too large: audited, nothing kept); exits 1 with a "
        "message when the input is not an email."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="an envelope recipient (RCPT TO); may be repeated",
        )

    def handle(self, *args: object, **options: Any) -> None:
        # One byte over the limit is enough to refuse it as too large; the rest is read
        # and dropped, so the MTA writing it sees the delivery end normally.
        raw = sys.stdin.buffer.read(EMAIL_MAX_BYTES + 1)
        while sys.stdin.buffer.read(1024 * 1024):
            pass
        try:
            result = email_receive(raw=raw, recipients=options["recipient"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"email {result.outcome}")

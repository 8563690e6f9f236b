"""`manage.py staff_create`: the first administrator (or any staff account) from the
command line, with a verified address and the given roles."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qualipact.backoffice.services import staff_account_create
from qualipact.privacy.errors import ApplicationError
from qualipact.web.roles import Role


class Command(BaseCommand):
    help = (
        "Create a staff account (verified address, staff) holding the given roles "
        "(default: administrator). Asks the password twice on a terminal; "
        "--password-file reads it from a file for scripts. Stores nothing if the password "
        "is weak or the username or address is taken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--role",
            action="append",
            choices=[role.value for role in Role],
            dest="roles",
            help="A role to grant; repeat for several (default: administrator).",
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            help="Read the password from this file (its first line) instead of asking.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options["password_file"])
        roles = options["roles"] or [Role.ADMINISTRATOR.value]
        try:
            user = staff_account_create(
                username=options["username"],
                email=options["email"],
                password=password,
                roles=roles,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.public.rstrip('.')}. Nothing was stored.") from None
        labels = ", ".join(Role(value).label for value in roles)
        self.stdout.write(
            f"Created the staff account {user.username} ({labels}).\n"
            "Next:\n"
            "  1. Sign in at /accounts/login/ on the site (`make run` serves it at "
            "http://127.0.0.1:8000/, or on the port PORT names).\n"
            "  2. Set up an authenticator app at /accounts/2fa/ (staff pages need a second "
            "factor).\n"
            '  3. Open the staff console at /staff/ (the "Staff console" link in the site '
            "header).\n"
        )

    def _password(self, path: Path | None) -> str:
        if path is not None:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read the password file: {exc.strerror}") from None
            if not lines or not lines[0]:
                raise CommandError("The password file is empty.")
            return lines[0]
        if not sys.stdin.isatty():
            raise CommandError(
                "No terminal to ask the password on: use --password-file for scripts."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ. Nothing was stored.")
        return first

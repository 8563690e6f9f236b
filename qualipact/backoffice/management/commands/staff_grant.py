"""`manage.py staff_grant`: grant or remove a staff role from the command line, for
recovery (audited as the system, emailed to the person)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from qualipact.accounts.models import User
from qualipact.backoffice.services import staff_restore, staff_role_grant, staff_role_remove
from qualipact.privacy.errors import ApplicationError
from qualipact.web.roles import Role


class Command(BaseCommand):
    help = (
        "Grant a staff role to a staff account, or remove it with --remove. Audited as "
        "the system and emailed to the person. Refuses accounts that are not staff (unless "
        "--restore makes a former staff member's account staff again) and removing the "
        "last administrator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--remove", action="store_true", help="Remove the role instead.")
        parser.add_argument(
            "--restore",
            action="store_true",
            help="Make the account staff again first (after its staff access was ended).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError("No account has this username.")
        role = Role(options["role"])
        change = staff_role_remove if options["remove"] else staff_role_grant
        try:
            with transaction.atomic():
                if options["restore"] and not options["remove"] and staff_restore(user=user):
                    self.stdout.write(f"{user.username} is a staff account again.")
                changed = change(user=user, role=role, by=None)
        except ApplicationError as exc:
            hint = "" if options["restore"] else " (--restore makes a former staff member staff)"
            raise CommandError(f"{exc.public.rstrip('.')}{hint}. Nothing was changed.") from None
        if options["remove"]:
            done = "Removed" if changed else "Already without"
        else:
            done = "Granted" if changed else "Already held"
        self.stdout.write(f"{done}: {role.label} for {user.username}.")

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from qualipact import config


class Command(BaseCommand):
    help = (
        "Development only: write the secrets that <QUALIPACT_VAR_DIR>/secrets.json lacks "
        "(SECRET_KEY, VAULT_MASTER_KEYS, BLIND_INDEX_KEY, AUDIT_KEY: freshly generated "
        "random values) into that file, with mode 0600, creating the file and its folder "
        "if needed. A value already in the file is never changed, so running it again "
        "writes nothing. Writes no other file. `run_site` (`make run`) does the same. "
        "Refused in production, whose secrets come from NAME or NAME_FILE."
    )
    # The settings hold empty secrets while this runs on a fresh clone: nothing to check.
    requires_system_checks: list[str] = []

    def handle(self, *args: object, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Production mode reads its secrets from NAME or NAME_FILE (your secret "
                "store); it has no secrets file to write."
            )
        path = settings.SECRETS_FILE
        added = config.secrets_file_init(path=path)
        if added:
            self.stdout.write(f"wrote {', '.join(added)} into {path} (mode 0600)")
        else:
            self.stdout.write(f"{path} already holds every secret: nothing written")

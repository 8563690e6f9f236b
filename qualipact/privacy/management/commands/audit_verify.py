from django.core.management.base import BaseCommand, CommandError

from qualipact.privacy.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain. Prints 'ok N events', or the first broken link "
        "and exits non-zero. Changes nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        report = audit_verify()
        if not report.ok:
            raise CommandError(str(report))
        self.stdout.write(str(report))

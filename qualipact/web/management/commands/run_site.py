import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Set up and run the whole site: migrate both databases, load demo data when the "
        "database is empty, then run the web server, a Celery worker, Celery beat and (in "
        "development) a local mailbox until Ctrl-C, which stops them all. Deletes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write("migrating the main database and the key store ...")
        call_command("migrate", database="default", interactive=False, verbosity=0)
        call_command("migrate", database="keys", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo_data", if_empty=True)
            call_command("offers_demo_catalogue", if_empty=True)

        python = sys.executable
        address = f"{options['host']}:{options['port']}"
        commands = {
            # No access log: links in emails carry secret tokens in their paths.
            "web": [python, "-m", "gunicorn", "qualipact.wsgi", "--bind", address,
                    "--workers", "2"],
            "worker": [python, "-m", "celery", "-A", "qualipact", "worker",
                       "--concurrency", "1", "--loglevel", "INFO"],
            "beat": [python, "-m", "celery", "-A", "qualipact", "beat", "--loglevel", "INFO",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        }  # fmt: skip
        if settings.DEV_MAILBOX:
            mailbox = settings.VAR_DIR / "mail"
            commands["mail"] = [
                python, "-m", "aiosmtpd", "-n", "-l",
                f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
                "-c", "aiosmtpd.handlers.Mailbox", str(mailbox),
            ]  # fmt: skip
            self.stdout.write(
                f"development mailbox on {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: "
                f"every email is kept in {mailbox}/new"
            )
        self.stdout.write(f"Qualipact is starting on http://{address}/ (Ctrl-C stops it)")
        self.stdout.flush()
        children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        failed = None
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    failed, stopping = name, True
            time.sleep(0.5)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()  # reap it: no zombie outlives the command
        if failed:
            raise CommandError(f"the {failed} process stopped unexpectedly; stopped the others")
        self.stdout.write("stopped")

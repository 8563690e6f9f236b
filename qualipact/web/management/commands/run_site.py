import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from qualipact import config
from qualipact.web.processes import (
    STOP_GRACE_SECONDS,
    child_start,
    groups_stop,
    parent_death_signal_set,
)

# How often the supervisor looks at its children and at its own parent.
POLL_SECONDS = 0.5


def bind_address(host: str, port: int) -> str:
    """`host:port` as gunicorn's --bind wants it (an IPv6 literal in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def site_url_for(host: str, port: int) -> str:
    """The base URL of the site served on `host`:`port`, for links in emails: the
    `SITE_URL` environment variable when it is set (a proxy in front, another name),
    else `http://<host>:<port>`, where an all-interfaces host becomes the loopback
    address that reaches it."""
    explicit = os.environ.get("SITE_URL", "").strip()
    if explicit:
        return explicit
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://{bind_address(shown, port)}"


class Command(BaseCommand):
    help = (
        "Set up and run the whole site: in development, create QUALIPACT_VAR_DIR and write "
        "the secrets that its secrets.json lacks (as secrets_init does: mode 0600, never "
        "changing a value), migrate both databases, load demo data when the database is "
        "empty, then run the web server, a Celery worker, Celery beat and (in "
        "development) a local mailbox until Ctrl-C or SIGTERM, which stops them all. "
        "SITE_URL defaults to the address served, for the web server, worker and beat "
        "alike. The site also stops when a child fails or when the process that started "
        "this command ends; killed outright, it takes its children with it (Linux). "
        "Deletes nothing."
    )
    # The system checks run below, once the secrets are loaded (secrets_prepare).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")

    def handle(self, *args: object, **options: Any) -> None:
        # Bound to whoever started us (make, a shell, a test): if it dies, even by
        # SIGKILL, the kernel sends us SIGTERM and we stop everything below.
        parent = os.getppid()
        parent_death_signal_set(signal.SIGTERM)
        self.secrets_prepare()
        self.check()

        host, port = options["host"], options["port"]
        site_url = site_url_for(host, port)
        # Every process of the site builds the same links: this one (demo data), and
        # through the environment the web server, the worker and beat.
        settings.SITE_URL = site_url
        env = {**os.environ, "SITE_URL": site_url}
        env.setdefault("DJANGO_SETTINGS_MODULE", "qualipact.settings")

        self.stdout.write("migrating the main database and the key store ...")
        call_command("migrate", database="default", interactive=False, verbosity=0)
        call_command("migrate", database="keys", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo_data", if_empty=True)
            call_command("offers_demo_catalogue", if_empty=True)

        python = sys.executable
        commands = {
            # No access log: links in emails carry secret tokens in their paths.
            "web": [python, "-m", "gunicorn", "qualipact.wsgi",
                    "--config", "python:qualipact.web.gunicorn_conf",
                    "--bind", bind_address(host, port), "--workers", "2"],
            "worker": [python, "-m", "celery", "-A", "qualipact", "worker",
                       "--concurrency", "1", "--loglevel", "INFO"],
            "beat": [python, "-m", "celery", "-A", "qualipact", "beat", "--loglevel", "INFO",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        }  # fmt: skip
        if settings.DEV_MAILBOX:
            mailbox = settings.VAR_DIR / "mail"
            # Keeps every email in the Maildir, and takes emailed replies to support
            # tickets into their tickets (INBOUND_MAIL_ROUTES).
            commands["mail"] = [
                python, "-m", "django", "mailbox_serve",
                "--host", settings.EMAIL_HOST, "--port", str(settings.EMAIL_PORT),
                "--maildir", str(mailbox),
            ]  # fmt: skip
            self.stdout.write(
                f"development mailbox on {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: "
                f"every email is kept in {mailbox}/new, and replies to "
                f"{settings.SUPPORT_REPLY_DOMAIN} go into their tickets"
            )
        self.stdout.write(f"Qualipact is starting on {site_url}/ (Ctrl-C stops it)")
        self.stdout.flush()

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)

        # Each child runs in a process group of its own and dies with this process;
        # stopping one stops its whole group (gunicorn's workers, Celery's pool).
        children: dict[str, subprocess.Popen[Any]] = {}
        failed = None
        try:
            for name, command in commands.items():
                children[name] = child_start(command, env=env)
            while not stopping and failed is None and os.getppid() == parent:
                failed = next((n for n, c in children.items() if c.poll() is not None), None)
                time.sleep(POLL_SECONDS)
        finally:
            groups_stop(list(children.values()), grace=STOP_GRACE_SECONDS)
        if failed:
            raise CommandError(f"the {failed} process stopped unexpectedly; stopped the others")
        self.stdout.write("stopped")

    def secrets_prepare(self) -> None:
        """Development: create the local folders, write the secrets the file lacks, and
        load them into this process's settings, which started without them on a fresh
        clone (settings only read: config.load_secrets). The web server, the worker and
        beat, started later, read the file themselves."""
        if settings.PRODUCTION:
            return
        config.local_dirs_init(folder=settings.VAR_DIR)
        if not config.secrets_missing_from_env():
            return
        added = config.secrets_file_init(path=settings.SECRETS_FILE)
        if added:
            self.stdout.write(f"generated {', '.join(added)} into {settings.SECRETS_FILE}")
        found = config.load_secrets(production=False, local_file=settings.SECRETS_FILE)
        for name, value in config.secret_settings(found).items():
            setattr(settings, name, value)

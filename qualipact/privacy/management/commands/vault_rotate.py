import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode, audit_log


class Command(BaseCommand):
    help = (
        "Rewrap every subject data key under the first key of VAULT_MASTER_KEYS, and re-seal "
        "the secrets other apps sealed under a master key (MFA seeds). Deletes nothing; older "
        "master keys can be removed from the setting afterwards."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: object, **options: object) -> None:
        batch_size = int(options["batch_size"])  # type: ignore[call-overload]
        total = vault.keys_to_rotate()
        done = 0
        with tqdm(total=total, unit="key", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
            for count in vault.keys_rotate(batch_size=batch_size):
                done += count
                bar.update(count)
        current_id = next(iter(settings.VAULT_MASTER_KEYS))
        resealed = {name: hook() for name, hook in sorted(vault.reseal_hooks().items())}
        audit_log(
            code=EventCode.VAULT_KEYS_ROTATED,
            actor=Actor.system("vault_rotate"),
            data={"keys": done, "master_key_id": current_id, "resealed": resealed},
        )
        self.stdout.write(f"rewrapped {done} keys under master key {current_id}")
        for name, count in resealed.items():
            self.stdout.write(f"re-sealed {count} {name} under master key {current_id}")

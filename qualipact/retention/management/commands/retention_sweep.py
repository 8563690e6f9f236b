import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from qualipact.privacy.errors import ApplicationError
from qualipact.retention.engine import SweepResult, retention_sweep


class Command(BaseCommand):
    help = (
        "Enforce every retention rule declared in the apps' privacy.py: delete (or clear, "
        "or anonymise, as declared) the rows past their period, and erase the people whose "
        "account expired; rows under a legal hold are kept. --dry-run deletes nothing and "
        "prints what would go, per model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--model", help="one declared model only, e.g. contact.Inquiry")

    def handle(self, *args: Any, dry_run: bool, model: str | None, **options: Any) -> None:
        # Progress on stderr when it is a terminal: rows done per batch.
        bar = tqdm(unit="row", file=sys.stderr, disable=not sys.stderr.isatty())
        shown: dict[str, Any] = {"result": None, "rows": 0}

        def progress(result: SweepResult) -> None:
            if result is not shown["result"]:  # the next rule: its count starts at 0
                shown.update(result=result, rows=0)
                bar.set_description(result.label)
            bar.update(result.done - shown["rows"])
            shown["rows"] = result.done

        try:
            results = retention_sweep(dry_run=dry_run, model=model, progress=progress)
        except ApplicationError as error:
            raise CommandError(f"{error.message}: {model}") from None
        finally:
            bar.close()
        verb = "would go" if dry_run else "done"
        width = max((len(r.label) for r in results), default=5)
        self.stdout.write(f"{'model':<{width}}  {'due':>8}  {verb:>8}  {'held':>6}  rule")
        for result in results:
            count = result.due - result.held_back if dry_run else result.done
            self.stdout.write(
                f"{result.label:<{width}}  {result.due:>8}  {count:>8}  "
                f"{result.held_back:>6}  {result.rule}"
            )
        total = sum(r.due - r.held_back if dry_run else r.done for r in results)
        note = " (dry run: nothing changed)" if dry_run else ""
        self.stdout.write(f"{total} row(s) {verb}{note}")

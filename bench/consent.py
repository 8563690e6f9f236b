"""Benchmark of purpose enforcement on the consent ledger: a newsletter audience and one check.

Run from the repository root:

    .venv/bin/python bench/consent.py                    # 1,000,000 subjects
    .venv/bin/python bench/consent.py --subjects 100000
    .venv/bin/python bench/consent.py --keep             # reuse the data set of a former run

The data lives in var/bench-consent-<N>/ (SQLite), never in the developer's var/.
DATABASE_URL / KEYS_DATABASE_URL are honoured; such a database must be empty unless
--keep is given. People and their consent states are bulk-inserted (consent states
hold no encrypted data, so this is the same rows the services write, only faster),
with a mix: about 35% granted marketing under the current wording, 5% granted under
an older wording that a material change retired, 10% withdrew, 2% restricted, 1%
erased, the rest never answered.

Measured, in the same process:
- the audience of a newsletter: every subject `subjects_for_purpose(...)` allows for
  "marketing", fetched as ids (the ORM turns each into a UUID object) and counted,
  against one hand-written SQL join that applies the same rules (current grant under
  a wording at or above the renewal floor, not restricted, not erased);
- one `may_process(subject, "marketing")` for random people (median and p95).
Targets: audience within 2x of raw SQL and under 2 s on SQLite; may_process under 0.5 ms.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from harness import (
    Result,
    configure,
    describe_run,
    ensure_subjects,
    median_p95,
    parse_args,
    print_table,
    progress,
)

DEFAULT_SUBJECTS = 1_000_000
BATCH = 20_000
AUDIENCE_RUNS = 5
CHECKS = 2_000
PURPOSE = "marketing"
AUDIENCE_TARGET_SECONDS = 2.0
CHECK_TARGET_MS = 0.5


def create(count: int, *, seed: int) -> str:
    """Subjects and their marketing consent states, in the mix the module docstring gives."""
    from qualipact.consent.models import ConsentState, ConsentWording
    from qualipact.consent.selectors import consent_wording_current
    from qualipact.privacy.models import DataSubject

    old = consent_wording_current(PURPOSE)
    current = ConsentWording.objects.create(
        purpose=PURPOSE,
        text=f"Newsletter wording after a material change ({uuid.uuid4().hex[:8]}).",
        sha256=uuid.uuid4().hex * 2,
        policy_version=2,
        requires_renewal=True,
    )
    rng = random.Random(seed)
    now = timezone.now()
    for start in progress(range(0, count, BATCH), unit="batch", desc="creating"):
        subjects, states = [], []
        for _ in range(min(BATCH, count - start)):
            draw = rng.random()
            subject = DataSubject(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                restricted_at=now if 0.50 <= draw < 0.52 else None,
                erased_at=now if 0.52 <= draw < 0.53 else None,
            )
            subjects.append(subject)
            if draw < 0.35:
                states.append(
                    ConsentState(subject=subject, purpose=PURPOSE, granted=True, wording=current)
                )
            elif draw < 0.40:
                states.append(
                    ConsentState(subject=subject, purpose=PURPOSE, granted=True, wording=old)
                )
            elif draw < 0.50:
                states.append(ConsentState(subject=subject, purpose=PURPOSE, granted=False))
            elif draw < 0.53:
                states.append(
                    ConsentState(subject=subject, purpose=PURPOSE, granted=True, wording=current)
                )
        with transaction.atomic():
            DataSubject.objects.bulk_create(subjects)
            ConsentState.objects.bulk_create(states)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    return "with marketing consent states"


def library_queryset() -> Any:
    from qualipact.privacy.enforcement import subjects_for_purpose
    from qualipact.privacy.models import DataSubject

    # A send needs no particular order: drop the model's default ordering.
    return subjects_for_purpose(DataSubject.objects.order_by(), PURPOSE)


def library_audience() -> list[Any]:
    return list(library_queryset().values_list("pk", flat=True))


def library_count() -> int:
    return int(library_queryset().count())


RAW_AUDIENCE = (
    "SELECT {what} FROM consent_consentstate c"
    " JOIN privacy_datasubject s ON s.id = c.subject_id"
    " WHERE c.purpose = %s AND c.granted AND c.wording_id >= %s"
    " AND s.erased_at IS NULL AND s.restricted_at IS NULL"
)


def raw_rows(what: str) -> list[Any]:
    from qualipact.consent.selectors import renewal_floor

    with connections["default"].cursor() as cursor:
        cursor.execute(RAW_AUDIENCE.format(what=what), [PURPOSE, renewal_floor(PURPOSE)])
        return [row[0] for row in cursor.fetchall()]


def raw_audience() -> list[Any]:
    return raw_rows("c.subject_id")


def raw_count() -> int:
    return int(raw_rows("count(*)")[0])


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv, description=__doc__ or "", default=DEFAULT_SUBJECTS)
    configure(f"bench-consent-{args.subjects}", keep=args.keep)
    data = ensure_subjects(
        args.subjects,
        keep=args.keep,
        create=lambda start, stop: create(stop - start, seed=args.seed),
    )
    print(f"data: {data}")

    from qualipact.privacy.enforcement import may_process
    from qualipact.privacy.models import DataSubject

    library_audience(), raw_audience()  # warm up: compile, page cache
    rows = {}
    for label, library, raw in (
        ("audience ids", library_audience, raw_audience),
        ("audience count", library_count, raw_count),
    ):
        lib_times, raw_times = [], []
        for _ in range(AUDIENCE_RUNS):
            lib_times.append(timed(library)[0])
            raw_times.append(timed(raw)[0])
        rows[label] = (lib_times, raw_times)
    lib_ids = {str(uuid.UUID(str(v))) for v in library_audience()}
    raw_ids = {str(uuid.UUID(str(v))) for v in raw_audience()}
    assert lib_ids == raw_ids, "the library and the raw SQL audiences differ"
    assert library_count() == raw_count() == len(lib_ids)
    lib_count = len(lib_ids)

    ids = list(DataSubject.objects.values_list("pk", flat=True)[:200_000])
    sample = random.Random(args.seed).sample(ids, min(CHECKS, len(ids)))
    people = DataSubject.objects.in_bulk(sample)
    check_ms = []
    for subject_id in sample:
        seconds, _ = timed(lambda s=people[subject_id]: may_process(s, PURPOSE))
        check_ms.append(seconds * 1000)

    print("\n" + describe_run(subjects=args.subjects, audience=lib_count) + "\n")
    results = [
        Result(f"{label} ({AUDIENCE_RUNS} runs)", lib_times, raw_times, unit="s")
        for label, (lib_times, raw_times) in rows.items()
    ]
    print_table(results)
    verdicts = []
    for label, (lib_times, raw_times) in rows.items():
        lib_median, raw_median = statistics.median(lib_times), statistics.median(raw_times)
        verdicts.append((f"{label} within 2x of raw SQL", lib_median / raw_median <= 2.0))
        verdicts.append((f"{label} under 2 s", lib_median <= AUDIENCE_TARGET_SECONDS))
    check_median, check_p95 = median_p95(check_ms)
    print(f"may_process, {len(check_ms)} people | {check_median:.3f} ms | p95 {check_p95:.3f} ms")
    verdicts.append(("may_process median under 0.5 ms", check_median <= CHECK_TARGET_MS))
    for label, ok in verdicts:
        print(f"  {label}: {'meets the target' if ok else 'MISSES the target'}")


if __name__ == "__main__":
    main()

"""Benchmark of the DPO dashboard: the page drawn from 10,000 data requests.

Run from the repository root:

    .venv/bin/python bench/backoffice.py                   # 10,000 requests, 50 runs
    .venv/bin/python bench/backoffice.py --requests 100000 --runs 20
    .venv/bin/python bench/backoffice.py --keep            # reuse the data set of a former run

The data lives in var/bench-backoffice-<N>/ (SQLite), never in the developer's var/;
DATABASE_URL / KEYS_DATABASE_URL are honoured (then the databases must be empty, or pass
--keep). Rows are written once with the harness's RowWriter (the values `save()` would
store, what people wrote encrypted under their own key), one person per request:

- requests received over the last 24 months (the log's retention), one in six of each
  kind but access and erasure twice as often; those older than 45 days answered (nine in
  ten completed, one in ten refused) within 1 to 40 days, save one in fifty still open
  and overdue; recent ones spread over the open statuses, some extended;
- three consent events per person over the last 26 weeks (grants, withdrawals and some
  objections, over the purposes that need consent);
- a legal hold on one person in fifty (a third of them lifted);
- a contact-form message from one person in twenty over the last 14 months, four in
  five of them complaints.

Measured, in the same process, alternating which path goes first:
- the page: GET /staff/dashboard/ through Django's test client, signed in as a DPO with
  a second factor (middleware, role check, the figures, the charts, the template),
  against replaying, on a raw cursor, every SQL statement that request sent (captured
  once beforehand): what the database alone costs for the page;
- the figures: `backoffice.dashboard.dashboard_figures()` against replaying its six
  aggregate statements on a raw cursor.
Target: the page under 300 ms (p95) on SQLite at 10,000 requests.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import connections
from django.utils import timezone
from harness import (
    Result,
    Rows,
    alternating,
    analyze,
    batches,
    captured,
    describe_run,
    median_p95,
    parse_args,
    print_table,
    replay,
    staff_client,
    start,
)

DEFAULT_REQUESTS = 10_000
RUNS = 50
TARGET_MS = 300.0
BATCH = 2_000
URL = "/staff/dashboard/"
DPO_USERNAME = "bench-dpo"


def create(first: int, stop: int, *, seed: int) -> str:
    """People `first` to `stop - 1`, each with one request, and the consent events, holds
    and contact messages the module docstring describes."""
    from qualipact.consent.models import ConsentEvent
    from qualipact.contact.models import Inquiry
    from qualipact.privacy.purposes import PURPOSES, LegalBasis
    from qualipact.retention.models import LegalHold
    from qualipact.rights.models import DataRequest

    rng = random.Random(seed + first)
    now = timezone.now()
    kinds = [*DataRequest.Kind.values, DataRequest.Kind.ACCESS, DataRequest.Kind.ERASURE]
    open_statuses = [str(status) for status in DataRequest.OPEN_STATUSES]
    consent_purposes = [p for p, d in PURPOSES.items() if d.legal_basis is LegalBasis.CONSENT]
    counts = {"requests": 0, "consent events": 0, "holds": 0, "contact messages": 0}
    for indexes in batches(first, stop, BATCH):
        rows = Rows()
        for _ in indexes:
            subject_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            key = rows.subject(subject_id)
            received = now - timedelta(days=rng.uniform(0, 730))
            kind = rng.choice(kinds)
            due = received.date() + timedelta(days=30)
            extended, completed = None, None
            if now - received > timedelta(days=45) and rng.random() >= 0.02:
                status = "completed" if rng.random() < 0.9 else "refused"
                completed = received + timedelta(days=rng.uniform(1, 40))
            elif now - received > timedelta(days=45):
                status = rng.choice(open_statuses)
            else:
                status = rng.choice([*open_statuses, "completed"])
                if status == "completed":
                    completed = received + timedelta(days=rng.uniform(1, 20))
                    completed = min(completed, now)
                elif rng.random() < 0.1:
                    extended = due + timedelta(days=60)
            rows.add(
                DataRequest,
                {
                    "id": uuid.uuid4(),
                    "subject": subject_id,
                    "kind": kind,
                    "status": status,
                    "channel": "account",
                    "details": json.dumps({"text": "Please include my order history."}),
                    "received_at": received,
                    "due_on": due,
                    "extended_due_on": extended,
                    "acknowledged_at": received,
                    "verified_at": received,
                    "completed_at": completed,
                    "outcome": {"complete": True} if status == "completed" else {},
                    "refusal_basis": "excessive" if status == "refused" else "",
                },
                key,
            )
            counts["requests"] += 1
            for _ in range(3):
                draw = rng.random()
                action = "grant" if draw < 0.65 else "withdraw" if draw < 0.95 else "object"
                rows.add(
                    ConsentEvent,
                    {
                        "id": uuid.uuid4(),
                        "subject": subject_id,
                        "purpose": rng.choice(consent_purposes),
                        "action": action,
                        "channel": "preference_centre",
                        "policy_version": 1,
                        "occurred_at": now - timedelta(days=rng.uniform(0, 182)),
                    },
                )
                counts["consent events"] += 1
            if rng.random() < 0.02:
                rows.add(
                    LegalHold,
                    {
                        "id": uuid.uuid4(),
                        "subject": subject_id,
                        "models_held": [],
                        "basis": rng.choice(LegalHold.Basis.values),
                        "note": "Case 2024-117, kept until the court rules.",
                        "placed_by": "bench",
                        "lifted_at": now if rng.random() < 1 / 3 else None,
                    },
                    key,
                )
                counts["holds"] += 1
            if rng.random() < 0.05:
                rows.add(
                    Inquiry,
                    {
                        "id": uuid.uuid4(),
                        "subject": subject_id,
                        "kind": "complaint" if rng.random() < 0.8 else "general",
                        "name": "Bench Person",
                        "email": f"person{subject_id.hex[:12]}@example.org",
                        "subject_line": "About my request",
                        "message": "I have waited too long for an answer.",
                        "created_at": now - timedelta(days=rng.uniform(0, 425)),
                    },
                    key,
                )
                counts["contact messages"] += 1
        rows.flush()
    analyze()
    return ", ".join(f"{n:,} {what}" for what, n in counts.items())


def verify(figures: Any) -> str:
    """The figures agree with plain counts of the tables."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM rights_datarequest")
        requests = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM retention_legalhold WHERE lifted_at IS NULL")
        holds = cursor.fetchone()[0]
    assert figures.requests == requests, (figures.requests, requests)
    assert figures.holds_in_force == holds, (figures.holds_in_force, holds)
    return (
        f"verified: the dashboard counts the same {requests:,} requests and {holds:,} holds "
        "in force as COUNT(*) of the tables"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        argv, description=__doc__ or "", default=DEFAULT_REQUESTS, size="requests", runs=RUNS
    )
    start(
        f"bench-backoffice-{args.requests}",
        args,
        subjects=args.requests,
        create=lambda first, stop: create(first, stop, seed=args.seed),
    )
    from qualipact.backoffice.dashboard import dashboard_figures

    client = staff_client(DPO_USERNAME, role="dpo")

    def page() -> None:
        response = client.get(URL, secure=True)
        assert response.status_code == 200, response.status_code

    for _ in range(3):  # warm: templates, the session, the query plans
        page()
        dashboard_figures()
    page_sql = captured(page)
    figures_sql = captured(dashboard_figures)
    print(verify(dashboard_figures()))
    page_s, page_raw_s = alternating(page, lambda: replay(page_sql), runs=args.runs, desc="page")
    figures_s, figures_raw_s = alternating(
        dashboard_figures, lambda: replay(figures_sql), runs=args.runs, desc="figures"
    )
    print(
        "\n"
        + describe_run(
            requests=args.requests,
            runs_per_path=args.runs,
            page_statements=len(page_sql),
            figure_statements=len(figures_sql),
        )
    )
    results = [
        Result(
            "dashboard page (test client, DPO) vs its SQL replayed",
            [s * 1000 for s in page_s],
            [s * 1000 for s in page_raw_s],
        ),
        Result(
            "figures (dashboard_figures) vs their SQL replayed",
            [s * 1000 for s in figures_s],
            [s * 1000 for s in figures_raw_s],
        ),
    ]
    print_table(results)
    _, p95 = median_p95(results[0].library_ms)
    verdict = "meets the target" if p95 < TARGET_MS else "MISSES the target"
    print(
        f"\n  dashboard page p95 {p95:.1f} ms at {args.requests:,} requests "
        f"(target under {TARGET_MS:g} ms on SQLite): {verdict}"
    )


if __name__ == "__main__":
    main()

"""Seeded data for the DPO dashboard's tests: requests, consent events, legal holds and
complaints at known times, and what the dashboard should show for them, counted here in
Python from the seed itself (never from the database the dashboard reads)."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

# A Wednesday: its week began on Monday 16 March, its month on 1 March.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
FIRST_MONTH = date(2025, 4, 1)  # the oldest of the 12 months shown
FIRST_WEEK = date(2025, 12, 29)  # the Monday of the oldest of the 12 weeks shown
REQUEST_WORDS = "Please send everything about my orders from Ida Lund"


@dataclass
class Expected:
    by_kind_status: Counter = field(default_factory=Counter)
    overdue: int = 0
    due_week: int = 0
    open_later: int = 0
    # month (first day) -> answer durations in days
    answers: dict[date, list[float]] = field(default_factory=dict)
    complaints: Counter = field(default_factory=Counter)  # month -> complaints
    holds: Counter = field(default_factory=Counter)  # basis -> holds in force
    consent: Counter = field(default_factory=Counter)  # (purpose, action, monday) -> events

    def median(self, month: date) -> float | None:
        found = self.answers.get(month)
        return statistics.median(found) if found else None


def _month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def _monday_of(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


@pytest.fixture
def dashboard_data(alice_account) -> Expected:
    """About 80 requests, 150 consent events, 8 holds and 9 contact messages, spread over
    the 14 months before NOW, with the expected figures (times in UTC, the site's zone)."""
    from qualipact.consent.models import ConsentEvent
    from qualipact.contact.models import Inquiry
    from qualipact.contact.services import inquiry_submit
    from qualipact.privacy.models import DataSubject
    from qualipact.privacy.purposes import PURPOSES, LegalBasis
    from qualipact.retention.models import LegalHold
    from qualipact.rights.models import DataRequest

    rng = random.Random(11)
    expected = Expected()
    people = [alice_account.subject, *(DataSubject.objects.create() for _ in range(5))]
    open_statuses = set(DataRequest.OPEN_STATUSES)
    for _ in range(80):
        kind = rng.choice(DataRequest.Kind.values)
        status = rng.choice(DataRequest.Status.values)
        received = NOW - timedelta(days=rng.randint(0, 420), minutes=rng.randint(0, 1439))
        due = received.date() + timedelta(days=rng.randint(20, 45))
        extended = due + timedelta(days=30) if rng.random() < 0.2 else None
        completed = None
        if status in (DataRequest.Status.COMPLETED, DataRequest.Status.REFUSED):
            completed = min(received + timedelta(hours=rng.randint(2, 40 * 24)), NOW)
        DataRequest.objects.create(
            subject=rng.choice(people),
            kind=kind,
            status=status,
            channel=DataRequest.Channel.ACCOUNT,
            details=REQUEST_WORDS,
            received_at=received,
            due_on=due,
            extended_due_on=extended,
            completed_at=completed,
        )
        expected.by_kind_status[(kind, status)] += 1
        if status in open_statuses:
            effective = extended or due
            if effective < TODAY:
                expected.overdue += 1
            elif effective <= TODAY + timedelta(days=7):
                expected.due_week += 1
            else:
                expected.open_later += 1
        if completed is not None and _month_of(completed) >= FIRST_MONTH:
            took = (completed - received).total_seconds() / 86400
            expected.answers.setdefault(_month_of(completed), []).append(took)

    consent_purposes = [p for p, d in PURPOSES.items() if d.legal_basis is LegalBasis.CONSENT]
    actions = [a for a in ConsentEvent.Action.values]
    for _ in range(150):
        purpose = rng.choice(consent_purposes)
        action = rng.choice(actions)
        occurred = NOW - timedelta(days=rng.randint(0, 100), minutes=rng.randint(0, 1439))
        ConsentEvent.objects.create(
            subject=rng.choice(people),
            purpose=purpose,
            action=action,
            channel=ConsentEvent._meta.get_field("channel").choices[0][0],
            policy_version=1,
            occurred_at=occurred,
        )
        if action in ("grant", "withdraw") and _monday_of(occurred) >= FIRST_WEEK:
            expected.consent[(purpose, action, _monday_of(occurred))] += 1

    for index in range(8):
        basis = rng.choice(LegalHold.Basis.values)
        hold = LegalHold.objects.create(
            subject=rng.choice(people), basis=basis, placed_by="stella", note="Case ref 12"
        )
        if index % 3 == 0:
            LegalHold.objects.filter(pk=hold.pk).update(lifted_at=NOW)
        else:
            expected.holds[basis] += 1

    for index, kind in enumerate(["complaint"] * 6 + ["general", "privacy", "complaint"]):
        inquiry = inquiry_submit(
            kind=kind,
            name="Ida Lund",
            email="ida.lund@example.org",
            phone="",
            postal_address="",
            subject_line="Unhappy with my order",
            message="Nobody answered my letter about the invoice.",
        )
        sent = NOW - timedelta(days=40 * index + 1)
        if index == 8:
            sent = datetime(2024, 12, 31, 22, 0, tzinfo=UTC)  # before the 12 months
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=sent)
        if kind == "complaint" and _month_of(sent) >= FIRST_MONTH:
            expected.complaints[_month_of(sent)] += 1
    return expected

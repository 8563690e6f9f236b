"""The DPO dashboard: requests, deadlines, answer times, complaints, legal holds and
consent, as server-drawn SVG charts each beside a table of its numbers. No personal data:
counts and medians only (qualipact.backoffice.dashboard)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.backoffice.dashboard import DashboardFigures, dashboard_figures
from qualipact.web import charts
from qualipact.web.roles import Role, role_required


def _month(first: date) -> str:
    return first.strftime("%b %Y")


def _week(monday: date) -> str:
    return f"{monday.day} {monday:%b}"


def _median_title(first: date, days: float) -> str:
    return f"{_month(first)}: {days:.1f} days"


def dashboard_charts(figures: DashboardFigures) -> dict[str, object]:
    """The geometry of every chart on the page, from the figures."""
    return {
        "requests": charts.stacked_bar_chart(
            [(row.label, row.counts) for row in figures.kind_rows],
            [label for _, label in figures.statuses],
            label_width=260,
            max_label=38,
        ),
        "deadlines": charts.bar_chart(
            [
                ("Overdue", figures.deadlines.overdue),
                (f"Due within {figures.deadlines.within_days} days", figures.deadlines.due_soon),
                ("Due later", figures.deadlines.later),
            ]
        ),
        "median": charts.line_chart(
            list(zip(figures.months, figures.median_days, strict=True)),
            point_title=_median_title,
            x_label=_month,
        ),
        "complaints": charts.column_chart(
            [_month(month) for month in figures.months], [("Complaints", figures.complaints)]
        ),
        "holds": charts.bar_chart(
            [(label, count) for _, label, count in figures.holds], label_width=320, max_label=52
        ),
        "consent": [
            (
                purpose,
                charts.column_chart(
                    [_week(week) for week in figures.weeks],
                    [("Given", purpose.grants), ("Withdrawn", purpose.withdrawals)],
                    height=200,
                ),
                list(zip(figures.weeks, purpose.grants, purpose.withdrawals, strict=True)),
            )
            for purpose in figures.consent
        ],
    }


@never_cache
@role_required(Role.DPO)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_figures()
    context = {
        "figures": figures,
        "charts": dashboard_charts(figures),
        "queue": reverse("rights:dpo_queue"),
        "status_columns": list(zip(figures.statuses, figures.status_totals, strict=True)),
        "month_rows": list(
            zip(figures.months, figures.median_days, figures.complaints, strict=True)
        ),
    }
    return render(request, "backoffice/dashboard.html", context)

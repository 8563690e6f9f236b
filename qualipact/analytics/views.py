from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.analytics import selectors, services
from qualipact.web import charts
from qualipact.web.roles import staff_required

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


def _visitors_title(day: date, visitors: float) -> str:
    return f"{day.isoformat()}: {visitors:g} visitors"


@never_cache
@staff_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        days = DEFAULT_PERIOD
    if days not in PERIODS:
        days = DEFAULT_PERIOD
    summary = selectors.dashboard_summary(until=services.utc_today(), days=days)
    context = {
        "summary": summary,
        "days": days,
        "periods": PERIODS,
        "k": selectors.K_ANONYMITY,
        "daily_chart": charts.line_chart(
            [(d.day, d.visitors) for d in summary.days], point_title=_visitors_title
        ),
        "pages_chart": charts.bar_chart([(p.label, p.views) for p in summary.pages]),
    }
    return render(request, "analytics/dashboard.html", context)

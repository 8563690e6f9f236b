"""Access transparency pages: "Who accessed my data" for a person (and a parent, for their
child), and the security officer's Security page. Reads go through backoffice.access."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.accounts import services as accounts
from qualipact.backoffice import access
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.web.people import signed_in_user
from qualipact.web.roles import Role, role_required


@never_cache
@login_required
@require_safe
def who_accessed(request: HttpRequest) -> HttpResponse:
    """The signed-in person's recorded staff views, newest first, 25 a page."""
    account = signed_in_user(request, get_user_model())
    listing = access.subject_accesses_page(
        subject_id=account.subject_id, page=request.GET.get("page")
    )
    return render(request, "backoffice/access_mine.html", {"listing": listing, "child": None})


@never_cache
@login_required
@require_safe
def child_who_accessed(request: HttpRequest, child_id: uuid.UUID) -> HttpResponse:
    """The same for a child whose parent consented; any other id is simply not found."""
    child = accounts.child_of(parent=signed_in_user(request, get_user_model()), child_id=child_id)
    if child is None:
        raise Http404("No such child account")
    listing = access.subject_accesses_page(
        subject_id=child.subject_id, page=request.GET.get("page")
    )
    return render(request, "backoffice/access_mine.html", {"listing": listing, "child": child})


@never_cache
@role_required(Role.SECURITY_OFFICER)
@require_safe
def security(request: HttpRequest) -> HttpResponse:
    """Security officer: recent access alerts, staff totals of the last day, recent views."""
    viewer = StaffView(
        actor=Actor.staff(str(request.user.pk)),
        role=Role.SECURITY_OFFICER,
        purpose=access.SECURITY_PURPOSE,
    )
    alerts = access.access_alerts_recent(viewer=viewer)
    rows, totals = access.staff_accesses_recent(viewer=viewer)
    threshold, minutes = access.alert_window()
    context = {
        "alerts": alerts,
        "rows": rows,
        "totals": totals,
        "threshold": threshold,
        "minutes": minutes,
        "alert_days": access.ALERT_DAYS,
        "recent_count": access.access_alerts_count(),
    }
    return render(request, "backoffice/access_security.html", context)

"""The staff console: what each staff member may open, and what waits for them."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.web.console import staff_pages_for
from qualipact.web.roles import roles_of, staff_required


@never_cache
@staff_required
@require_safe
def console(request: HttpRequest) -> HttpResponse:
    roles = roles_of(request.user)
    sections: dict[str, list] = {}
    for page in staff_pages_for(roles):
        waiting = page.waiting(request.user) if page.waiting else []
        sections.setdefault(page.section, []).append((page, waiting))
    return render(
        request,
        "backoffice/console.html",
        {"sections": sections, "roles": sorted(role.label for role in roles)},
    )

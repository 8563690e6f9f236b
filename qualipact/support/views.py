"""The person's support pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def ticket_link(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404("not built yet")

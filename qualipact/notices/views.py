from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from qualipact.notices import selectors


def _render_policy(request: HttpRequest, version, *, archived: bool) -> HttpResponse:  # type: ignore[no-untyped-def]
    return render(
        request,
        "notices/policy.html",
        {
            "policy": version,
            "blocks": selectors.policy_blocks(version.text),
            "archived": archived,
            "versions": selectors.policy_versions(),
        },
    )


@require_safe
def policy(request: HttpRequest) -> HttpResponse:
    return _render_policy(request, selectors.policy_current(), archived=False)


@require_safe
def policy_version(request: HttpRequest, number: int) -> HttpResponse:
    current = selectors.policy_current()
    version = selectors.policy_version_get(number)
    return _render_policy(request, version, archived=version.pk != current.pk)

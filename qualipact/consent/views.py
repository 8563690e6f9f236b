from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from qualipact.consent import selectors
from qualipact.consent.models import Channel
from qualipact.consent.services import preference_change
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import DataSubject


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The preference centre for a person without an account, opened from an email link."""
    try:
        subject = selectors.preference_subject(token)
    except selectors.InvalidLink as error:
        return render(request, "consent/invalid_link.html", {"error": error}, status=404)
    return _preference_centre(request, subject)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_signed_in(request: HttpRequest) -> HttpResponse:
    """The same preference centre for a signed-in person, on their own account."""
    child = getattr(request.user, "is_child", False)
    return _preference_centre(request, request.user.subject, child=child)  # type: ignore[union-attr]


def _preference_centre(
    request: HttpRequest, subject: DataSubject, *, child: bool = False
) -> HttpResponse:
    problem = None
    if request.method == "POST":
        try:
            preference_change(
                subject=subject,
                purpose=request.POST.get("purpose", ""),
                action=request.POST.get("action", ""),
                wording_sha256=request.POST.get("wording", ""),
                channel=Channel.PREFERENCE_CENTRE,
                actor=Actor.subject(subject.pk),
            )
        except ApplicationError as error:
            problem = error.message
        else:
            return redirect(request.path)
    return render(
        request,
        "consent/preferences.html",
        {
            "choices": selectors.consent_overview(subject),
            "history": selectors.consent_history(subject),
            "problem": problem,
            "child": child,
        },
        status=400 if problem else 200,
    )

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
from qualipact.web.errors import person_message

# What the preference centre says when a choice is refused (see web.errors).
SENTENCES = {
    "fresh_link_required": (
        "A link from a newsletter can withdraw consent and object, but not give consent: "
        "anyone the email was forwarded to could use it. Sign in, or ask for a fresh link "
        "below."
    ),
    "processing_refused": "This choice is not available for this account.",
}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The preference centre for a person without an account, opened from an email link."""
    try:
        access = selectors.preference_access(token)
    except selectors.InvalidLink:
        return render(request, "consent/invalid_link.html", status=404)
    return _preference_centre(request, access, token=token)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_signed_in(request: HttpRequest) -> HttpResponse:
    """The same preference centre for a signed-in person, on their own account."""
    child = getattr(request.user, "is_child", False)
    access = selectors.PreferenceAccess(subject=request.user.subject)  # type: ignore[union-attr]
    return _preference_centre(request, access, child=child)


def _preference_centre(
    request: HttpRequest,
    access: selectors.PreferenceAccess,
    *,
    child: bool = False,
    token: str = "",
) -> HttpResponse:
    subject = access.subject
    problem = None
    if request.method == "POST":
        try:
            preference_change(
                access=access,
                purpose=request.POST.get("purpose", ""),
                action=request.POST.get("action", ""),
                wording_sha256=request.POST.get("wording", ""),
                channel=Channel.PREFERENCE_CENTRE,
                actor=Actor.subject(subject.pk),
            )
        except ApplicationError as error:
            problem = person_message(error, SENTENCES)
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
            "may_grant": access.may_grant,
            "token": token,
        },
        status=400 if problem else 200,
    )

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from qualipact.comms import newsletters
from qualipact.comms.forms import NewsletterSignupForm
from qualipact.consent import selectors as consent_selectors
from qualipact.privacy.errors import ApplicationError
from qualipact.web.middleware import cross_origin_allowed


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_signup(request: HttpRequest) -> HttpResponse:
    wording = consent_selectors.consent_wording_current(newsletters.PURPOSE)
    if request.method != "POST":
        form = NewsletterSignupForm(initial={"wording": wording.sha256})
        return render(request, "comms/signup.html", {"form": form, "wording": wording})
    form = NewsletterSignupForm(request.POST)
    if form.is_valid():
        try:
            newsletters.newsletter_signup_later(
                email=form.cleaned_data["email"], wording_sha256=form.cleaned_data["wording"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            # The same answer whether or not the address was known before.
            return render(request, "comms/signup_sent.html")
    return render(request, "comms/signup.html", {"form": form, "wording": wording}, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not subscribe anyone); POST confirms."""
    try:
        if request.method == "POST":
            newsletters.newsletter_confirm(token=token)
            return render(request, "comms/confirmed.html")
        newsletters.newsletter_signup_for_token(token)
    except newsletters.InvalidConfirmation as error:
        return render(request, "comms/link_error.html", {"error": error}, status=404)
    return render(request, "comms/confirm.html")


@cross_origin_allowed
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: POST unsubscribes at once, with no cookie and no login; GET only asks."""
    try:
        subject = consent_selectors.preference_subject(token)
    except consent_selectors.InvalidLink as error:
        return render(request, "comms/link_error.html", {"error": error}, status=404)
    if request.method == "POST":
        newsletters.newsletter_unsubscribe(subject=subject)
        return render(request, "comms/unsubscribed.html", {"token": token})
    return render(request, "comms/unsubscribe.html")

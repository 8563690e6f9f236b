from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from qualipact.comms import newsletters
from qualipact.comms.forms import NewsletterSignupForm
from qualipact.consent import selectors as consent_selectors
from qualipact.privacy.errors import ApplicationError
from qualipact.web.errors import person_message
from qualipact.web.middleware import cross_origin_allowed
from qualipact.web.submissions import redirect_to, submitted_once

SIGNUP_SENTENCES = {
    "wording_changed": "The newsletter's wording changed. Please read it again, then subscribe.",
}
LINK_SENTENCES = {
    "invalid_confirmation": "This confirmation link is not valid, or it has expired.",
    "invalid_link": "This link is not valid.",
}


@never_cache
@submitted_once("newsletter-signup")
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
            form.add_error(None, person_message(error, SIGNUP_SENTENCES))
        else:
            # The same answer whether the address was known, new, or a child's: what
            # happened goes by email to the address.
            return redirect_to("comms:newsletter_signup_sent")
    return render(request, "comms/signup.html", {"form": form, "wording": wording}, status=400)


def _link_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    message = person_message(error, LINK_SENTENCES)
    return render(request, "comms/link_error.html", {"message": message}, status=404)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not subscribe anyone); POST confirms."""
    try:
        if request.method == "POST":
            newsletters.newsletter_confirm(token=token)
            return render(request, "comms/confirmed.html")
        newsletters.newsletter_signup_for_token(token)
    except ApplicationError as error:
        return _link_error(request, error)
    return render(request, "comms/confirm.html")


@cross_origin_allowed
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: POST unsubscribes at once, with no cookie and no login; GET only asks.

    The link works for as long as the person exists: an opt-out never expires."""
    try:
        subject = consent_selectors.preference_subject(token)
    except consent_selectors.InvalidLink as error:
        return _link_error(request, error)
    if request.method == "POST":
        newsletters.newsletter_unsubscribe(subject=subject)
        return render(request, "comms/unsubscribed.html", {"token": token})
    return render(request, "comms/unsubscribe.html")


@never_cache
@submitted_once("fresh-link")
@require_POST
def fresh_link(request: HttpRequest, token: str) -> HttpResponse:
    """From a page opened with a bulk mail's link: email a fresh single-use link to the
    address that mail went to. The answer is the same whether one was sent or not."""
    try:
        link = consent_selectors.preference_link(token)
    except consent_selectors.InvalidLink as error:
        return _link_error(request, error)
    newsletters.preference_fresh_link_send(link=link)
    return redirect_to("comms:fresh_link_sent")

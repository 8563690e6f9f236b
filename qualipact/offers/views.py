"""Offers pages: the public list, and a person's own page.

The public pages know nobody: they set no cookie and show everybody the same list. A
person is known on their own page: signed in (`/offers/for-you/`, in the site's
navigation), or opened from a link in an email (`/offers/for/<token>/`). Even there their
data is used only for the purposes they consented to. A link from a bulk mail may have
been forwarded: on its page the person's data is neither shown nor collected, and it
can only withdraw consent or forget a location (see consent.selectors.PreferenceAccess).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.consent import selectors as consent_selectors
from qualipact.consent.channels import Channel
from qualipact.consent.services import FreshLinkRequired, preference_change
from qualipact.offers import selectors, services
from qualipact.offers.forms import TopicPreferencesForm
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process
from qualipact.privacy.errors import ApplicationError, ProcessingRefused
from qualipact.web.errors import person_message
from qualipact.web.ratelimit import client_address

# The consent choices this page offers; everything else is in the preference centre.
PAGE_PURPOSES = (services.PERSONALISED_OFFERS, services.LOCATION_FEATURES)
NEEDS_CONSENT = "This needs your consent first. Nothing was stored."
NOT_DONE = "That could not be done. Nothing was changed."
NEEDS_FRESH_LINK = (
    "A link from a newsletter can withdraw consent but not give it, nor store anything: "
    "anyone the email was forwarded to could use it. Sign in, or ask for a fresh link."
)
SENTENCES = {
    "processing_refused": NEEDS_CONSENT,
    "fresh_link_required": NEEDS_FRESH_LINK,
    "invalid_link": "This link is not valid.",
    "invalid_position": "That position is not valid. Nothing was stored.",
    "invalid_topics": "Please choose topics from the list. Nothing was changed.",
    "country_unknown": (
        "Your country could not be told from your connection. Nothing was stored; you can "
        "share an approximate position instead."
    ),
    "page_purpose": "This page only changes offers choices. Nothing was changed.",
}


class OtherPurpose(ApplicationError):
    code = "page_purpose"


@require_safe
def offer_list(request: HttpRequest) -> HttpResponse:
    """Everybody sees the same list here; nothing about the visitor is read or kept."""
    return render(request, "offers/list.html", {"result": selectors.offers_for(None)})


@require_safe
def offer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    offer = selectors.offer_get(slug)
    if offer is None:
        return render(request, "offers/not_found.html", status=404)
    return render(request, "offers/detail.html", {"offer": offer})


@dataclass(frozen=True)
class PersonPage:
    """A person's offers page: under their signed-in session or under an email link."""

    access: consent_selectors.PreferenceAccess
    token: str = ""  # the link's token; empty when signed in
    child: bool = False

    @property
    def home_url(self) -> str:
        if self.token:
            return reverse("offers:for_person", args=[self.token])
        return reverse("offers:for_you")

    @property
    def location_url(self) -> str:
        if self.token:
            return reverse("offers:location", args=[self.token])
        return reverse("offers:for_you_location")

    def offer_url(self, slug: str) -> str:
        if self.token:
            return reverse("offers:offer_by_link", args=[self.token, slug])
        return reverse("offers:for_you_offer", args=[slug])


def _link_page(token: str) -> PersonPage | None:
    try:
        return PersonPage(access=consent_selectors.preference_access(token), token=token)
    except consent_selectors.InvalidLink:
        return None


def _signed_in_page(request: HttpRequest) -> PersonPage:
    user = request.user
    return PersonPage(
        access=consent_selectors.PreferenceAccess(subject=user.subject),  # type: ignore[union-attr]
        child=getattr(user, "is_child", False),
    )


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "offers/invalid_link.html", status=404)


def _geolocation_allowed_policy() -> str:
    """The site's Permissions-Policy with geolocation opened to our own origin only."""
    directives = [d.strip() for d in settings.PERMISSIONS_POLICY.split(",") if d.strip()]
    kept = [d for d in directives if not d.startswith("geolocation=")]
    return ", ".join([*kept, "geolocation=(self)"])


def _require_fresh(page: PersonPage) -> None:
    if not page.access.is_fresh:
        raise FreshLinkRequired("This link may only take things away", {"link": "opt_out_only"})


def _page_action(request: HttpRequest, page: PersonPage) -> None:
    subject = page.access.subject
    action = request.POST.get("action", "")
    actor = Actor.subject(subject.pk)
    if action == "topics":
        _require_fresh(page)
        form = TopicPreferencesForm(request.POST, topics=selectors.topics_all())
        if not form.is_valid():
            raise services.InvalidTopics("Choose topics from the list", {"topics": "invalid"})
        services.topic_preferences_set(
            subject=subject, topics=form.cleaned_data["topics"], actor=actor
        )
    elif action == "location_ip":
        _require_fresh(page)
        services.location_record_from_ip(
            subject=subject, address=client_address(request), actor=actor
        )
    elif action == "location_forget":
        services.location_forget(subject=subject, actor=actor)
    elif action in ("grant", "withdraw"):
        purpose = request.POST.get("purpose", "")
        if purpose not in PAGE_PURPOSES:
            raise OtherPurpose("This page only changes offers choices", {"purpose": "other"})
        preference_change(
            access=page.access,
            purpose=purpose,
            action=action,
            wording_sha256=request.POST.get("wording", ""),
            channel=Channel.WEB_FORM,
            actor=actor,
        )
    else:
        raise ApplicationError("Unknown action", {"action": "unknown"})


def _person_page(request: HttpRequest, page: PersonPage) -> HttpResponse:
    """A person's offers, their interests, their location and their two consents."""
    subject = page.access.subject
    problem, status = "", 200
    if request.method == "POST":
        try:
            _page_action(request, page)
        except ProcessingRefused:
            problem, status = NEEDS_CONSENT, 403
        except FreshLinkRequired as error:
            problem, status = person_message(error, SENTENCES), 403
        except ApplicationError as error:
            problem, status = person_message(error, SENTENCES, default=NOT_DONE), 400
        else:
            return redirect(request.path)
    # A link that can only opt out shows nobody's data: it may have been forwarded.
    full = page.access.is_fresh
    result = selectors.offers_for(subject if full else None)
    topics_form = None
    if full and result.personalised:
        topics_form = TopicPreferencesForm(
            topics=selectors.topics_all(),
            initial={"topics": sorted(selectors.topic_preferences_of(subject))},
        )
    wordings = {
        purpose: consent_selectors.consent_wording_current(purpose) for purpose in PAGE_PURPOSES
    }
    response = render(
        request,
        "offers/for_person.html",
        {
            "result": result,
            "page": page,
            "full": full,
            "may_grant": page.access.may_grant and not page.child,
            "child": page.child,
            "personalised_on": may_process(subject, services.PERSONALISED_OFFERS),
            "location_on": may_process(subject, services.LOCATION_FEATURES),
            "token": page.token,
            "signed_in_page": not page.token,
            "problem": problem,
            "topics_form": topics_form,
            "personalised_wording": wordings[services.PERSONALISED_OFFERS],
            "location_wording": wordings[services.LOCATION_FEATURES],
            "location_url": page.location_url,
            "preferences_url": (
                reverse("consent:preferences_by_link", args=[page.token])
                if page.token
                else reverse("consent:preferences")
            ),
        },
        status=status,
    )
    if full and result.located:
        # The only page where the browser may be asked for a position, and only once
        # the person has consented to location features.
        response["Permissions-Policy"] = _geolocation_allowed_policy()
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def offers_by_link(request: HttpRequest, token: str) -> HttpResponse:
    page = _link_page(token)
    if page is None:
        return _invalid_link(request)
    return _person_page(request, page)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def offers_signed_in(request: HttpRequest) -> HttpResponse:
    """The same page for a signed-in person, reached from the site's navigation."""
    return _person_page(request, _signed_in_page(request))


def _offer_seen(request: HttpRequest, page: PersonPage, slug: str) -> HttpResponse:
    """An offer seen by a known person: remembered only while they consent to it."""
    subject = page.access.subject
    offer = selectors.offer_get(slug)
    if offer is None:
        return render(request, "offers/not_found.html", status=404)
    if request.method == "GET" and page.access.is_fresh:
        # Without consent at this moment the view is simply not remembered; nor through
        # a bulk mail's link, which anyone it was forwarded to may hold.
        with contextlib.suppress(ProcessingRefused):
            services.offer_view_record(
                subject=subject, offer=offer, actor=Actor.subject(subject.pk)
            )
    return render(request, "offers/detail.html", {"offer": offer, "back_url": page.home_url})


@never_cache
@require_safe
def offer_by_link(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    page = _link_page(token)
    if page is None:
        return _invalid_link(request)
    return _offer_seen(request, page, slug)


@never_cache
@login_required
@require_safe
def offer_signed_in(request: HttpRequest, slug: str) -> HttpResponse:
    return _offer_seen(request, _signed_in_page(request), slug)


def _json_error(status: int, code: str, message: str, details: object = None) -> JsonResponse:
    # The same shape as the API's errors (qualipact/api.py).
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(body, status=status)


def _location(request: HttpRequest, page: PersonPage) -> JsonResponse:
    """Called by static/offers/location.js with the browser's position, after a click."""
    subject = page.access.subject
    try:
        _require_fresh(page)
        fix = services.location_record_from_browser(
            subject=subject,
            latitude=request.POST.get("latitude"),
            longitude=request.POST.get("longitude"),
            actor=Actor.subject(subject.pk),
        )
    except ProcessingRefused as error:
        return _json_error(403, error.code, NEEDS_CONSENT, {"purpose": services.LOCATION_FEATURES})
    except ApplicationError as error:
        status = 403 if isinstance(error, FreshLinkRequired) else 400
        message = person_message(error, SENTENCES, default=NOT_DONE)
        return _json_error(status, error.code, message, error.extra)
    return JsonResponse({"stored": {"position": fix.position, "precision_km": 1}})


@never_cache
@require_POST
def location_from_browser(request: HttpRequest, token: str) -> JsonResponse:
    page = _link_page(token)
    if page is None:
        return _json_error(404, "invalid_link", "This link is not valid.")
    return _location(request, page)


@never_cache
@login_required
@require_POST
def location_signed_in(request: HttpRequest) -> JsonResponse:
    return _location(request, _signed_in_page(request))

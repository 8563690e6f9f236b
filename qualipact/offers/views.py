"""Offers pages: the public list, and a person's own page opened from their preference link.

The public pages know nobody: they set no cookie and show everybody the same list. A
person is known only on the pages under their preference link (`/offers/for/<token>/`),
and even there their data is used only for the purposes they consented to.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.consent import selectors as consent_selectors
from qualipact.consent.models import Channel
from qualipact.consent.services import preference_change
from qualipact.offers import selectors, services
from qualipact.offers.forms import TopicPreferencesForm
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError, ProcessingRefused
from qualipact.privacy.models import DataSubject
from qualipact.web.ratelimit import client_address

# The consent choices this page offers; everything else is in the preference centre.
PAGE_PURPOSES = (services.PERSONALISED_OFFERS, services.LOCATION_FEATURES)
NEEDS_CONSENT = "This needs your consent first. Nothing was stored."


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


def _person(token: str) -> DataSubject | None:
    try:
        return consent_selectors.preference_subject(token)
    except consent_selectors.InvalidLink:
        return None


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "offers/invalid_link.html", status=404)


def _geolocation_allowed_policy() -> str:
    """The site's Permissions-Policy with geolocation opened to our own origin only."""
    directives = [d.strip() for d in settings.PERMISSIONS_POLICY.split(",") if d.strip()]
    kept = [d for d in directives if not d.startswith("geolocation=")]
    return ", ".join([*kept, "geolocation=(self)"])


def _page_action(request: HttpRequest, subject: DataSubject) -> None:
    action = request.POST.get("action", "")
    actor = Actor.subject(subject.pk)
    if action == "topics":
        form = TopicPreferencesForm(request.POST, topics=selectors.topics_all())
        if not form.is_valid():
            raise ApplicationError("Please choose topics from the list", {"topics": "invalid"})
        services.topic_preferences_set(
            subject=subject, topics=form.cleaned_data["topics"], actor=actor
        )
    elif action == "location_ip":
        services.location_record_from_ip(
            subject=subject, address=client_address(request), actor=actor
        )
    elif action == "location_forget":
        services.location_forget(subject=subject, actor=actor)
    elif action in ("grant", "withdraw"):
        purpose = request.POST.get("purpose", "")
        if purpose not in PAGE_PURPOSES:
            raise ApplicationError("This page only changes offers choices", {"purpose": "other"})
        preference_change(
            subject=subject,
            purpose=purpose,
            action=action,
            wording_sha256=request.POST.get("wording", ""),
            channel=Channel.WEB_FORM,
            actor=actor,
        )
    else:
        raise ApplicationError("Unknown action", {"action": "unknown"})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def offers_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """A person's offers, their interests, their location and their two consents."""
    subject = _person(token)
    if subject is None:
        return _invalid_link(request)
    problem, status = "", 200
    if request.method == "POST":
        try:
            _page_action(request, subject)
        except ProcessingRefused:
            problem, status = NEEDS_CONSENT, 403
        except ApplicationError as error:
            problem, status = f"{error.message}. Nothing was changed.", 400
        else:
            return redirect(request.path)
    result = selectors.offers_for(subject)
    topics_form = None
    if result.personalised:
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
            "token": token,
            "problem": problem,
            "topics_form": topics_form,
            "personalised_wording": wordings[services.PERSONALISED_OFFERS],
            "location_wording": wordings[services.LOCATION_FEATURES],
            "preferences_url": reverse("consent:preferences_by_link", args=[token]),
        },
        status=status,
    )
    if result.located:
        # The only page where the browser may be asked for a position, and only once
        # the person has consented to location features.
        response["Permissions-Policy"] = _geolocation_allowed_policy()
    return response


@never_cache
@require_safe
def offer_by_link(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    """An offer seen by a known person: remembered only while they consent to it."""
    subject = _person(token)
    if subject is None:
        return _invalid_link(request)
    offer = selectors.offer_get(slug)
    if offer is None:
        return render(request, "offers/not_found.html", status=404)
    if request.method == "GET":
        # Without consent at this moment the view is simply not remembered.
        with contextlib.suppress(ProcessingRefused):
            services.offer_view_record(
                subject=subject, offer=offer, actor=Actor.subject(subject.pk)
            )
    return render(
        request,
        "offers/detail.html",
        {"offer": offer, "back_url": reverse("offers:for_person", args=[token])},
    )


def _json_error(status: int, code: str, message: str, details: object = None) -> JsonResponse:
    # The same shape as the API's errors (qualipact/api.py).
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(body, status=status)


@never_cache
@require_POST
def location_from_browser(request: HttpRequest, token: str) -> JsonResponse:
    """Called by static/offers/location.js with the browser's position, after a click."""
    subject = _person(token)
    if subject is None:
        return _json_error(404, "invalid_link", "This link is invalid or has expired.")
    try:
        fix = services.location_record_from_browser(
            subject=subject,
            latitude=request.POST.get("latitude"),
            longitude=request.POST.get("longitude"),
            actor=Actor.subject(subject.pk),
        )
    except ProcessingRefused as error:
        return _json_error(403, error.code, NEEDS_CONSENT, {"purpose": services.LOCATION_FEATURES})
    except ApplicationError as error:
        return _json_error(400, error.code, f"{error.message}. Nothing was stored.", error.extra)
    return JsonResponse({"stored": {"position": fix.position, "precision_km": 1}})

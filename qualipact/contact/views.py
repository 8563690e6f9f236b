import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from qualipact.contact.forms import InquiryForm
from qualipact.contact.models import Inquiry
from qualipact.contact.services import inquiry_submit_later
from qualipact.privacy.authorities import EDPB_MEMBERS_URL, Authority, authority_for
from qualipact.privacy.countries import COUNTRIES
from qualipact.web.ratelimit import rate_limit_exceeded
from qualipact.web.submissions import confirmation_page, redirect_to, submitted_once

logger = logging.getLogger(__name__)
# The account model (accounts.User), as Django names it: views reach other apps' data
# through their selectors, never their models.
User = get_user_model()


def _authorities_by_country() -> list[tuple[str, Authority]]:
    """(country name, authority) for every country the form offers that has one, in the
    form's order (privacy.countries: one table for both; "Another country" has none, and
    the page names the EDPB's list for it)."""
    return [
        (country.name, authority)
        for country in COUNTRIES
        if (authority := authority_for(country.code)) is not None
    ]


@dataclass(frozen=True)
class _Account:
    """Who sends the form signed in: their account's subject, address and name."""

    subject_id: uuid.UUID
    email: str
    name: str  # "" when the account holds none


def _signed_in(request: HttpRequest) -> _Account | None:
    """The signed-in account sending the form, or None for a visitor."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    return _Account(subject_id=user.subject_id, email=user.email, name=user.get_full_name())


def _form(account: _Account | None, *args: Any, **kwargs: Any) -> InquiryForm:
    """The form; signed in, with the account's address, not to be changed."""
    return InquiryForm(*args, account_email=account.email if account else None, **kwargs)


def _form_page(request: HttpRequest, form: InquiryForm, *, status: int = 200) -> HttpResponse:
    """The form, with the supervisory authorities a complainant may also turn to (GDPR
    Art 77), listed in the page itself so it works without JavaScript."""
    context = {
        "form": form,
        "signed_in": form.account_email is not None,
        "complaint": form["kind"].value() == Inquiry.Kind.COMPLAINT,
        "authorities": _authorities_by_country(),
        "edpb_members_url": EDPB_MEMBERS_URL,
    }
    return render(request, "contact/inquiry.html", context, status=status)


@never_cache
@submitted_once("contact")
@require_http_methods(["GET", "HEAD", "POST"])
def inquiry(request: HttpRequest) -> HttpResponse:
    account = _signed_in(request)
    if request.method != "POST":
        kind = request.GET.get("kind")
        initial = {"kind": kind} if kind in Inquiry.Kind.values else {}
        if account is not None and account.name:
            initial["name"] = account.name
        return _form_page(request, _form(account, initial=initial))

    if rate_limit_exceeded(
        "contact",
        request,
        limit=settings.CONTACT_RATE_LIMIT,
        window=settings.CONTACT_RATE_WINDOW_SECONDS,
    ):
        logger.warning("contact form rate limit reached")
        return render(request, "contact/rate_limited.html", status=429)

    form = _form(account, request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    if form.is_bot:
        # Pretend success so the bot moves on; store nothing.
        logger.info("contact form honeypot filled; submission discarded")
        return _thanks_for(form.cleaned_data["kind"])
    data = form.cleaned_data
    # Stored in the background: the answer is the same, in the same time, for every
    # address (a child's address gets an explanation by email instead). Signed in, the
    # address is the account's (the form ignores any other) and the message is the
    # account's: only then does it show on the person's own pages.
    inquiry_submit_later(
        kind=data["kind"],
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        postal_address=data["postal_address"],
        subject_line=data["subject_line"],
        message=data["message"],
        country=data["country"],
        account_subject_id=account.subject_id if account else None,
    )
    return _thanks_for(data["kind"])


def _thanks_for(kind: str) -> HttpResponse:
    """The thanks page, told the kind that was sent (`?complaint=1`): a kind is no
    personal data, and a visitor gets no cookie to carry it in."""
    return redirect_to("contact:thanks", **{kind: True})


# What happens next, for the kind of message sent; without a kind, a general sentence.
thanks = confirmation_page("contact/thanks.html", flags=tuple(Inquiry.Kind.values))

"""The person's support pages: their messages, one message's conversation, and the same
conversation opened from an emailed link without an account.

A signed-in person sees only the tickets they sent signed in: any other id answers "not
found", a ticket sent without signing in from their address too (a typed address proves
nothing about who typed it). A person without an account, or with a ticket sent
without signing in, follows the link in an email: it opens the ticket once, and
the visit it starts travels in the page's forms (a hidden field), never in a cookie or
an address, so an anonymous visitor still gets no cookie. A used or expired link offers
to email a fresh one to the ticket's own address, which the page never shows.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qualipact.privacy.errors import ApplicationError, ProcessingRefused
from qualipact.support.forms import FeedbackForm, ReplyForm
from qualipact.support.selectors import (
    ticket_for_person,
    ticket_of_link,
    ticket_of_subject,
    ticket_rows_of_subject,
)
from qualipact.support.services import person
from qualipact.support.services.links import LINK_DAYS, VISIT_MINUTES, link_open, visit_inquiry
from qualipact.web.people import signed_in_user
from qualipact.web.submissions import confirmation_page, submitted_once

logger = logging.getLogger(__name__)
# The account model (accounts.User), as Django names it: views reach other apps' data
# through their selectors, never their models.
User = get_user_model()

# What a page says when a service refuses a reply or a rating, by the refused field's code.
SENTENCES = {
    ("body", "empty"): "Write your reply first.",
    ("body", "too_long"): "Your reply is too long; please shorten it or send it in two parts.",
    ("score", "invalid"): "Choose a rating from 1 to 5.",
    ("comment", "too_long"): "Your comment is too long; please shorten it.",
    ("ticket", "not_answered"): "You can rate our answer once we have answered.",
}
GENERAL = "This could not be done. Please try again."


def _sentence(error: ApplicationError) -> tuple[str | None, str]:
    """(form field or None, the sentence for the person) for a refused reply or rating."""
    for name, code in error.extra.items():
        if (name, code) in SENTENCES:
            return (name if name in ("body", "score", "comment") else None), SENTENCES[(name, code)]
    return None, GENERAL


def _page(
    request: HttpRequest,
    inquiry: Any,
    *,
    visit_token: str = "",
    reply_form: ReplyForm | None = None,
    feedback_form: FeedbackForm | None = None,
    done: str = "",
    status: int = 200,
) -> HttpResponse:
    """A ticket's page, for its owner signed in, or for a visit (`visit_token`): the
    forms send to the signed-in addresses or to the visit's. The ticket is read again:
    a reply just kept has changed its status."""
    inquiry.refresh_from_db()
    ticket = ticket_for_person(inquiry=inquiry)
    if visit_token:
        reply_action = reverse("support:visit_reply")
        rate_action = reverse("support:visit_rate")
    else:
        reply_action = reverse("support:ticket_reply", args=[ticket.id])
        rate_action = reverse("support:ticket_rate", args=[ticket.id])
    if feedback_form is None and ticket.feedback_score is not None:
        feedback_form = FeedbackForm(
            initial={"score": ticket.feedback_score, "comment": ticket.feedback_comment}
        )
    context = {
        "ticket": ticket,
        "visit_token": visit_token,
        "visit_minutes": VISIT_MINUTES,
        "reply_form": reply_form or ReplyForm(initial={"form_key": secrets.token_urlsafe(16)}),
        "feedback_form": feedback_form or FeedbackForm(),
        "reply_action": reply_action,
        "rate_action": rate_action,
        "done": done,
    }
    return render(request, "support/ticket.html", context, status=status)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "support/not_found.html", status=404)


def _reply(request: HttpRequest, inquiry: Any, **page: Any) -> HttpResponse | None:
    """Take the reply form: None once the reply is kept, else the page with the form's
    errors."""
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            person.ticket_reply(
                inquiry=inquiry,
                body=form.cleaned_data["body"],
                form_key=form.cleaned_data["form_key"],
            )
            return None
        except ApplicationError as error:
            field, sentence = _sentence(error)
            form.add_error(field, sentence)
    return _page(request, inquiry, reply_form=form, status=400, **page)


def _rate(request: HttpRequest, inquiry: Any, **page: Any) -> HttpResponse | None:
    """Take the rating form: None once the rating is kept, else the page with the form's
    errors and what was typed."""
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            person.feedback_give(
                inquiry=inquiry,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
            return None
        except ApplicationError as error:
            field, sentence = _sentence(error)
            form.add_error(field, sentence)
    return _page(request, inquiry, feedback_form=form, status=400, **page)


# -- signed in -------------------------------------------------------------------------------


def _own_ticket(request: HttpRequest, ticket_id: uuid.UUID) -> Any:
    """The signed-in person's ticket sent signed in, or None (the attempt on another is
    audited)."""
    subject_id = signed_in_user(request, User).subject_id
    inquiry = ticket_of_subject(subject_id=subject_id, ticket_id=ticket_id)
    if inquiry is None:
        person.ticket_for_other_refused(subject_id=subject_id, ticket_id=ticket_id)
    return inquiry


@never_cache
@login_required
@require_safe
def tickets(request: HttpRequest) -> HttpResponse:
    """Your messages: every ticket the signed-in person sent signed in, latest activity
    first."""
    rows = ticket_rows_of_subject(subject_id=signed_in_user(request, User).subject_id)
    return render(request, "support/tickets.html", {"rows": rows})


@never_cache
@login_required
@require_safe
def ticket(request: HttpRequest, ticket_id: uuid.UUID) -> HttpResponse:
    inquiry = _own_ticket(request, ticket_id)
    if inquiry is None:
        return _not_found(request)
    done = next((flag for flag in ("replied", "rated") if request.GET.get(flag) == "1"), "")
    return _page(request, inquiry, done=done)


def _back_to_ticket(ticket_id: uuid.UUID, flag: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        f"{reverse('support:ticket', args=[ticket_id])}?{flag}=1", status=303
    )


@never_cache
@login_required
@submitted_once("support_reply")
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: uuid.UUID) -> HttpResponse:
    inquiry = _own_ticket(request, ticket_id)
    if inquiry is None:
        return _not_found(request)
    return _reply(request, inquiry) or _back_to_ticket(ticket_id, "replied")


@never_cache
@login_required
@submitted_once("support_rate")
@require_POST
def ticket_rate(request: HttpRequest, ticket_id: uuid.UUID) -> HttpResponse:
    inquiry = _own_ticket(request, ticket_id)
    if inquiry is None:
        return _not_found(request)
    return _rate(request, inquiry) or _back_to_ticket(ticket_id, "rated")


# -- from an emailed link, without an account ------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])  # not HEAD: a HEAD must not spend the link
def ticket_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET opens the ticket once and starts a visit; a used or expired link offers a new
    one. POST (that offer's button) emails a fresh link to the ticket's address."""
    token = token[:200]
    if request.method == "POST":
        return _fresh_link(request, token)
    try:
        visit = link_open(token=token)
    except ApplicationError as error:
        problem = error.extra.get("link")
        if problem in ("spent", "expired"):
            context = {"expired": problem == "expired", "link_days": LINK_DAYS}
            return render(request, "support/link_used.html", context, status=410)
        return _not_found(request)
    return _page(request, visit.inquiry, visit_token=visit.token)


def _fresh_link(request: HttpRequest, token: str) -> HttpResponse:
    inquiry = ticket_of_link(token=token)
    if inquiry is None:
        return _not_found(request)
    try:
        outcome = person.link_fresh_send(inquiry=inquiry)
    except ProcessingRefused:
        logger.info("support: fresh link not sent, the person may not be written to")
        return render(request, "support/link_not_sent.html", status=409)
    query = "?recent=1" if outcome == person.FreshLink.RECENT else ""
    return HttpResponseRedirect(reverse("support:link_sent") + query, status=303)


link_sent = confirmation_page("support/link_sent.html", flags=("recent",))


def _visit(request: HttpRequest) -> tuple[Any, str]:
    """The ticket of the visit whose token the form carries, and the token."""
    token = request.POST.get("visit", "")[:200]
    return visit_inquiry(token=token), token


def _visit_ended(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """The visit is over, or the form carried no visit of ours: what was typed is shown
    back, to copy, and nothing is kept."""
    context = {
        "typed": request.POST.get("body", "") or request.POST.get("comment", ""),
        "unknown": error.extra.get("visit") == "unknown",
    }
    return render(request, "support/visit_ended.html", context, status=403)


@never_cache
@require_POST
def visit_reply(request: HttpRequest) -> HttpResponse:
    """A reply from a visit's page. A visit has no address of its own to redirect to (its
    token travels only in forms), so the answer is the page again; a reload's copy of the
    form is kept once (the form's key)."""
    try:
        inquiry, token = _visit(request)
    except ApplicationError as error:
        return _visit_ended(request, error)
    return _reply(request, inquiry, visit_token=token) or _page(
        request, inquiry, visit_token=token, done="replied"
    )


@never_cache
@require_POST
def visit_rate(request: HttpRequest) -> HttpResponse:
    """A rating from a visit's page; rating again replaces the rating."""
    try:
        inquiry, token = _visit(request)
    except ApplicationError as error:
        return _visit_ended(request, error)
    return _rate(request, inquiry, visit_token=token) or _page(
        request, inquiry, visit_token=token, done="rated"
    )

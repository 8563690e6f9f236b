"""The staff pages of contact-form messages: each queue's inbox.

A support agent works the support queue, the DPO the DPO's queue. The list decrypts
nothing; each row links to the message's page, which is a ticket's page of the support
app (`support.staff_views`: the message, its thread, answers and assignment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from qualipact.contact import selectors
from qualipact.contact.models import Inquiry
from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.web.roles import role_required

View = Callable[..., HttpResponse]


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(
        label="Handled by",
        choices=[
            (selectors.Show.ALL, "Anyone or nobody"),
            (selectors.Show.UNASSIGNED, "Nobody yet"),
            (selectors.Show.MINE, "You"),
        ],
        required=False,
    )
    status = forms.ChoiceField(
        choices=[
            (selectors.STATUS_OPEN, "Open (not closed)"),
            (selectors.STATUS_ALL, "All"),
            *Inquiry.Status.choices,
        ],
        required=False,
    )


def _url(rule: QueueRule, page: str, *args: Any) -> str:
    return reverse(f"contact:staff_{rule.queue}_{page}", args=args)


def _inbox(request: HttpRequest, rule: QueueRule) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    form.is_valid()  # an unknown value is reported beside its field and not applied
    show = form.cleaned_data.get("show") or selectors.Show.ALL
    status = form.cleaned_data.get("status") or selectors.STATUS_OPEN
    rows = selectors.inquiry_inbox(queue=rule.queue, user=request.user, show=show, status=status)
    page = Paginator(rows, selectors.INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rule": rule,
        "form": form,
        "page": page,
        # The ticket's page is the support app's (named, not imported: contact lies below).
        "message_url": f"support:staff_{rule.queue}_ticket",
        "inbox_url": _url(rule, "inbox"),
    }
    return render(request, "contact/staff/inbox.html", context)


@dataclass(frozen=True)
class QueuePages:
    """The views of one queue, guarded by the queue's role: its inbox. A message's page
    and its actions are the support app's (`support.staff_views`)."""

    inbox: View


def _queue_pages(queue: str) -> QueuePages:
    rule = QUEUES[queue]
    guard = role_required(rule.role)

    @never_cache
    @guard
    @require_safe
    def inbox(request: HttpRequest) -> HttpResponse:
        return _inbox(request, rule)

    return QueuePages(inbox=inbox)


support = _queue_pages(Inquiry.Queue.SUPPORT)
dpo = _queue_pages(Inquiry.Queue.DPO)

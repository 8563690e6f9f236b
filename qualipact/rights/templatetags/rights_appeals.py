"""Template tags for the appeal blocks: the person's (appeal_state) and the DPO's request
page (appeals_of_request). Reads only; what the person wrote is never loaded here."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from qualipact.rights.models import Appeal, DataRequest
from qualipact.rights.receipts import by_receipt
from qualipact.rights.services.appeals import appeal_authority, appeal_of, appeal_possible

register = template.Library()


@register.simple_tag(takes_context=True)
def appeal_state(context: template.Context) -> dict[str, Any] | None:
    """For the person's page of `data_request`: whether they may appeal and where (`url`),
    their appeal, and once a refusal is upheld its reasons (to the signed-in person only:
    a status link may be shared) and their supervisory authority. None when the request
    was never refused."""
    data_request: DataRequest | None = context.get("data_request")
    if data_request is None:
        return None
    appeal = appeal_of(data_request)
    if appeal is None and data_request.status != DataRequest.Status.REFUSED:
        return None
    http = context.get("request")
    user = getattr(http, "user", None)
    party = bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "subject_id", None)
        in (data_request.subject_id, data_request.requested_by_id)
    )
    receipt_form = context.get("receipt_form")
    receipt = receipt_form.initial.get("receipt", "") if receipt_form is not None else ""
    url = ""
    if party:
        url = reverse("rights:appeal", args=[data_request.pk])
    elif receipt and by_receipt(data_request):
        url = f"{reverse('rights:appeal_by_link')}?{urlencode({'receipt': receipt})}"
    upheld = appeal is not None and appeal.status == Appeal.Status.UPHELD
    return {
        "appeal": appeal,
        "possible": appeal_possible(data_request),
        "url": url,
        "just_made": bool(http is not None and http.GET.get("appealed") == "1"),
        "reason": (appeal.decision_reason or "") if upheld and party and appeal else "",
        "authority": appeal_authority(appeal) if upheld and appeal else "",
    }


@register.simple_tag
def appeals_of_request(data_request: DataRequest) -> list[Appeal]:
    """The request's appeals, newest first, without what the person wrote."""
    return list(
        data_request.appeals.defer("text", "country", "decision_reason").order_by("-made_at")
    )

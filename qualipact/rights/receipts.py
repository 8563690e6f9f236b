"""The signed receipt of a request, and the address of the request's page for its person.

A receipt names a request by its id, signed (no personal data); it opens the request's
status page for a person without an account (or whose account an erasure just deleted)
for RECEIPT_MAX_AGE. Emails about a request link to its page: a person with an account
signs in and sees it under their requests; a person without one gets a fresh receipt.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.core import signing

from qualipact.rights.models import DataRequest
from qualipact.web.links import site_url

RECEIPT_SALT = "qualipact.rights.receipt"
# How long a receipt works (an erased person has no account left to look from).
RECEIPT_MAX_AGE = int(timedelta(days=30).total_seconds())
RECEIPT_DAYS = RECEIPT_MAX_AGE // 86400


def receipt_for(data_request: DataRequest) -> str:
    """A new signed receipt for `data_request` (works RECEIPT_MAX_AGE seconds)."""
    return signing.dumps({"r": str(data_request.pk)}, salt=RECEIPT_SALT)


def request_of_receipt(receipt: str) -> DataRequest | None:
    """The request a valid, unexpired receipt names; None for anything else."""
    try:
        payload = signing.loads(receipt, salt=RECEIPT_SALT, max_age=RECEIPT_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not payload.get("r"):
        return None
    return DataRequest.objects.filter(pk=payload["r"]).first()


def by_receipt(data_request: DataRequest) -> bool:
    """Whether the person follows this request by receipt rather than from an account
    (a request by email, from someone without an account)."""
    return data_request.channel == DataRequest.Channel.EMAIL


def request_page_url(data_request: DataRequest) -> str:
    """The absolute address of the request's page for its person, for an email: the page
    under their account, or (by_receipt) the status page with a fresh receipt."""
    if by_receipt(data_request):
        query = urlencode({"receipt": receipt_for(data_request)})
        return f"{site_url('rights:submitted')}?{query}"
    return site_url("rights:detail", data_request.pk)

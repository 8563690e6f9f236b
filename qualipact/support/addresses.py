"""Per-ticket reply addresses: how an emailed answer finds its ticket.

Every email about a ticket carries `Reply-To: ticket-<id>-<code>@SUPPORT_REPLY_DOMAIN`,
where `<id>` is the ticket's id (32 hex digits) and `<code>` the first 20 hex digits of
an HMAC-SHA256 of it under the site's secret key (Django's `salted_hmac`). Only we can
make an address that opens a ticket, so an email is taken into a ticket by the address
it was sent to, never by its From header, which anyone can write (RFC 5322 §3.6.2).
The local part is 58 characters, under RFC 5321's 64.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from qualipact.contact.models import Inquiry

_SALT = "qualipact.support.reply-address"
_CODE_LENGTH = 20
_LOCAL = re.compile(r"ticket-(?P<id>[0-9a-f]{32})-(?P<code>[0-9a-f]{20})")


def _code(inquiry_id: uuid.UUID) -> str:
    return salted_hmac(_SALT, inquiry_id.hex, algorithm="sha256").hexdigest()[:_CODE_LENGTH]


def reply_address(inquiry: Inquiry) -> str:
    """The address a reply about `inquiry` is sent to, e.g.
    `ticket-3f2a…-9c1e…@support.qualipact.localhost`."""
    return f"ticket-{inquiry.pk.hex}-{_code(inquiry.pk)}@{settings.SUPPORT_REPLY_DOMAIN}"


def inquiry_id_of_address(address: str) -> uuid.UUID | None:
    """The ticket id a reply address stands for, or None when `address` is not one of
    ours (another domain, a malformed or forged code). Case-insensitive, as mail
    systems may change the case of an address."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != settings.SUPPORT_REPLY_DOMAIN.lower():
        return None
    match = _LOCAL.fullmatch(local)
    if match is None:
        return None
    inquiry_id = uuid.UUID(match["id"])
    if not constant_time_compare(match["code"], _code(inquiry_id)):
        return None
    return inquiry_id

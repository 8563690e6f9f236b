"""Portability by direct transfer (Art 20(2)): the export's JSON POSTed to another provider.

Only `https://` endpoints, with the certificate checked. Addresses on this host or a
private network are refused unless RIGHTS_TRANSFER_ALLOW_PRIVATE is set (tests): an
endpoint given by a requester must not reach our own internal services.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings

from qualipact.privacy.errors import ApplicationError

TIMEOUT_SECONDS = 20


class TransferError(ApplicationError):
    code = "transfer_failed"
    status = 502


def endpoint_check(url: str) -> str:
    """The endpoint as given, once it is an https URL on a public address."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ApplicationError(
            "Give the receiving provider's https:// address", {"endpoint": "not_https"}
        )
    if not settings.RIGHTS_TRANSFER_ALLOW_PRIVATE:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
        except OSError:
            raise ApplicationError(
                "The receiving provider's address cannot be found", {"endpoint": "unresolved"}
            ) from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise ApplicationError(
                    "The receiving provider's address is not a public one",
                    {"endpoint": "not_public"},
                )
    return url.strip()


def transfer_post(*, endpoint: str, payload: bytes) -> int:
    """POST the JSON; returns the HTTP status. Raises TransferError on failure."""
    endpoint = endpoint_check(endpoint)
    try:
        response = requests.post(
            endpoint,
            data=payload,
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            verify=settings.RIGHTS_TRANSFER_CA_BUNDLE or True,
        )
    except requests.RequestException as exc:
        raise TransferError(
            f"The receiving provider could not be reached ({type(exc).__name__})",
            {"endpoint": "unreachable"},
        ) from None
    if not 200 <= response.status_code < 300:
        raise TransferError(
            f"The receiving provider refused the data (HTTP {response.status_code})",
            {"endpoint": "refused", "status": response.status_code},
        )
    return response.status_code

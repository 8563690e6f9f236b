"""Fixed-window rate limits keyed by a keyed hash of the client address (never the address)."""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer, or the one our trusted proxies put in X-Forwarded-For."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.headers.get("X-Forwarded-For", "").split(",")
            if part.strip()
        ]
        # Each trusted proxy appended the address it saw; anything further left is
        # client-controlled and cannot be trusted.
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def rate_limit_exceeded(scope: str, request: HttpRequest, *, limit: int, window: int) -> bool:
    """Count one attempt; true when this client has made more than `limit` in this window."""
    address = client_address(request).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), address, hashlib.sha256).hexdigest()
    # The window number is part of the key, so a backend that resets a key's expiry on
    # each increment (the file cache does) never stretches a window.
    key = f"ratelimit:{scope}:{int(time.time() // window)}:{digest[:32]}"
    attempts = 1
    if not cache.add(key, attempts, timeout=window):
        try:
            attempts = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, attempts, timeout=window)
    return attempts > limit

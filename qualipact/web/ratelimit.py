"""Fixed-window rate limits keyed by a keyed hash of the client address (never the address)."""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _client_key(scope: str, request: HttpRequest, window: int) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()
    return f"ratelimit:{scope}:{digest[:32]}"


def rate_limit_exceeded(scope: str, request: HttpRequest, *, limit: int, window: int) -> bool:
    """Count one attempt; true when this client has made more than `limit` in `window` seconds."""
    key = _client_key(scope, request, window)
    cache.add(key, 0, timeout=window)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        attempts = 1
    return attempts > limit

"""How a secret token from a link is kept: only its hash is stored, never the token.

The tokens are random (at least 128 bits from `secrets`), so a plain SHA-256 is enough:
nothing can be guessed from the hash and no key is needed to look a token up.
"""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The stored form of a link token: SHA-256 of its UTF-8 bytes, 64 hex digits."""
    return hashlib.sha256(token.encode()).hexdigest()

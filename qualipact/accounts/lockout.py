"""What django-axes stores as the "username" of a failed sign-in: the account, never a
typed address, and the same key whatever identifier was typed.

Sign-in accepts a username (in any case) or the account's address, so failures are
counted per account: five failures typed as `erin` lock `Erin` and `erin@example.org`
too, from that client address. Names that match no account are counted per typed name
(an address by a prefix of its blind index), so guessing still locks out.

axes locks a (key, client address) pair (`AXES_LOCKOUT_PARAMETERS`), and allauth's own
`login_failed` limit is per client address only (settings.ACCOUNT_RATE_LIMITS): failures
from other addresses never lock the owner out of sign-in from theirs.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from qualipact.accounts.backends import account_for_login
from qualipact.privacy import vault

ACCOUNT_PREFIX = "account:"
EMAIL_PREFIX = "email:"
USERNAME_KEY_MAX = 150


def lockout_key(login: str) -> str | None:
    """`account:<id>` for a login that names an account, else the normalised typed name."""
    login = login.strip()
    if not login:
        return None
    account = account_for_login(login)
    if account is not None:
        return ACCOUNT_PREFIX + account.pk.hex
    if "@" in login:
        # The table never holds the address: the same address always maps to the same key.
        local, _, domain = login.rpartition("@")
        return EMAIL_PREFIX + vault.blind_index("email", f"{local}@{domain.lower()}")[:32]
    # Bounded: axes keeps the key in a 255-character column.
    return login.lower()[:USERNAME_KEY_MAX]


def lockout_username(request: HttpRequest, credentials: dict[str, str] | None) -> str | None:
    """axes' AXES_USERNAME_CALLABLE."""
    login = (credentials or {}).get("username") or request.POST.get("login") or ""
    return lockout_key(login)


def lockout_client_str(
    username: str | None,
    ip_address: str | None,
    user_agent: str | None,
    path_info: Any,
    request: Any,
) -> str:
    """axes' AXES_CLIENT_STR_CALLABLE: how its log lines name a client. No username, no
    address, no browser: the audit log records lockouts against the account instead."""
    return "a client"

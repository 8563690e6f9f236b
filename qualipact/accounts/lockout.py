"""What django-axes stores as the "username" of a failed sign-in: never a typed address."""

from __future__ import annotations

from django.http import HttpRequest

from qualipact.privacy import vault


def lockout_username(request: HttpRequest, credentials: dict[str, str] | None) -> str | None:
    login = (credentials or {}).get("username") or request.POST.get("login") or ""
    login = login.strip()
    if not login:
        return None
    if "@" in login:
        # The same person typing the same address always maps to the same key, so the
        # lockout still works, and the table never holds the address.
        local, _, domain = login.rpartition("@")
        return "email:" + vault.blind_index("email", f"{local}@{domain.lower()}")[:32]
    return login.lower()

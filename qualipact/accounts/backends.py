"""Sign in with a username or an email address; the address is found by its blind index."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from qualipact.accounts.models import User
from qualipact.accounts.services import account_by_email


def account_for_login(login: str) -> User | None:
    """The account a typed sign-in name means: a username in any case, or its address."""
    login = login.strip()
    if not login:
        return None
    if "@" in login:
        return account_by_email(login)
    return User.objects.filter(username__iexact=login).first()


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = (username or kwargs.get("email") or "").strip()
        if not login or password is None:
            return None
        user = account_for_login(login)
        if user is None:
            # Same work as a real check, so timing does not tell which accounts exist.
            User().set_password(password)
            return None
        # An unverified address or a child waiting for a parent is turned away by the
        # adapter's pre_login, with a page that says why.
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

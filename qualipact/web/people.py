"""Who a request comes from: the person for the purpose check, resolved once, and the
signed-in account for pages that require one."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from qualipact.privacy.models import DataSubject

# The project's user model (accounts.User) without naming it: web imports no feature app.
UserT = TypeVar("UserT", bound=AbstractBaseUser)


def request_subject(request: HttpRequest) -> DataSubject | None:
    """The signed-in person's data subject, or None for an anonymous visitor.

    Pass it to `privacy.enforcement.may_process`, which decides for a visitor too: a
    feature never decides from a request header or a session flag by itself.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    subject: DataSubject | None = getattr(user, "subject", None)
    return subject


def signed_in_user(request: HttpRequest, model: type[UserT]) -> UserT:
    """The signed-in account of a request to a page that requires one (`login_required`
    ran first), typed as the project's user `model`. Raises `PermissionDenied` (403) when
    the request has no such account, so a page missing its guard fails closed."""
    user = getattr(request, "user", None)
    if not isinstance(user, model) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user

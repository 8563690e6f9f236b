"""Outward hooks: Django's sign-in and sign-out, and django-axes' lockout, call our services."""

from __future__ import annotations

import uuid
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from qualipact.accounts.events import account_locked_out_event
from qualipact.accounts.lockout import ACCOUNT_PREFIX
from qualipact.accounts.models import User
from qualipact.accounts.services import session_record, session_signed_out


@receiver(user_logged_in, dispatch_uid="accounts.session_record")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and isinstance(user, User) and hasattr(request, "session"):
        session_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts.session_signed_out")
def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_signed_out(session_key=request.session.session_key)


def _locked_out_account(username: str | None) -> User | None:
    """The account a lockout key names (accounts.lockout): `account:<id>` for a known
    account; a typed name or address that matched no account names nobody."""
    if not username or not username.startswith(ACCOUNT_PREFIX):
        return None
    try:
        return User.objects.filter(pk=uuid.UUID(username.removeprefix(ACCOUNT_PREFIX))).first()
    except ValueError:
        return None


@receiver(user_locked_out, dispatch_uid="accounts.locked_out")
def _locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    account = _locked_out_account(username)
    account_locked_out_event(subject_id=account.subject_id if account else None)

"""Irreversible and data-revealing actions: a recent sign-in and an explicit confirmation,
on every channel, decided here and nowhere else.

The actions are erasure, an export of a person's data (access or portability), an email
change, removing a second factor, deleting an account and deleting a child's account.
"Recent" is allauth's re-authentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT, 300 s)
after a password, a passkey or an authenticator code typed at /accounts/reauthenticate/
(signing in alone does not count: a session left open must not be enough). Pages get
allauth's flow (they send the person to confirm it is them and replay the form); the API
answers 403 `reauthentication_required` and 422 `confirmation_required` in its one error
shape. GDPR Art 32 (security of processing),
Art 12(6) (the controller makes sure who is asking).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from allauth.account.decorators import reauthentication_required

# allauth's own test of the re-authentication window; internal to allauth, so used only
# here. Its decorator above is the public face of the same test.
from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from django.http import HttpRequest, HttpResponse

from qualipact.privacy.errors import ApplicationError

REAUTHENTICATE_URL = "/accounts/reauthenticate/"


class SensitiveAction(StrEnum):
    ERASURE = "erasure"
    EXPORT = "export"
    EMAIL_CHANGE = "email_change"
    MFA_REMOVAL = "mfa_removal"
    ACCOUNT_DELETION = "account_deletion"
    CHILD_DELETION = "child_deletion"


class ReauthenticationRequired(ApplicationError):
    code = "reauthentication_required"
    status = 403

    def __init__(self, action: SensitiveAction) -> None:
        super().__init__(
            "Confirm it is you first: sign in again with your password, a passkey or an "
            "authenticator code, then repeat this within 5 minutes.",
            {"action": str(action), "reauthenticate": REAUTHENTICATE_URL},
        )


class ConfirmationRequired(ApplicationError):
    code = "confirmation_required"
    status = 422

    def __init__(self, action: SensitiveAction) -> None:
        super().__init__(
            "This cannot be undone or reveals your data: confirm it explicitly "
            '(send "confirm": true).',
            {"action": str(action), "confirm": "required"},
        )


def recently_authenticated(request: HttpRequest) -> bool:
    """Signed in, and signed in or re-authenticated within the window."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and did_recently_reauthenticate(request))


def sensitive_action_check(
    request: HttpRequest, action: SensitiveAction, *, confirmed: bool
) -> None:
    """For the API: raise ReauthenticationRequired or ConfirmationRequired, else return."""
    if not recently_authenticated(request):
        raise ReauthenticationRequired(action)
    if not confirmed:
        raise ConfirmationRequired(action)


def sensitive_action(
    *actions: SensitiveAction,
    when: Callable[[HttpRequest], bool] | None = None,
    on_get: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For pages: a POST (also a GET with `on_get`; only the requests `when` picks, if
    given) needs a recent sign-in. The person is sent to confirm it is them and the form
    is replayed after. The page's form carries the explicit confirmation (a box to tick),
    checked by the form.
    """

    def enabled(request: HttpRequest) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS") and not on_get:
            return False
        return when(request) if when is not None else True

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        wrapped: Any = reauthentication_required(enabled=enabled)(view)
        wrapped.sensitive_actions = frozenset(actions)
        return wrapped

    return decorator

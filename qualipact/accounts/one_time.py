"""One-time codes are single-use across every flow (RFC 6238 section 5.2).

allauth remembers a used authenticator-app code in the cache, and only at sign-in and
re-authentication: the code typed to finish enrolment worked again at sign-in within its
30 seconds, and a lost cache entry (a restart, an eviction) made any used code good
again. Here the time step a code belongs to is claimed in the database
(`UsedOneTimeCode`, unique per person and step) by every flow that accepts one:
enrolment, sign-in and re-authentication (which MFA removal and every sensitive change
ask for). The forms below are allauth's, with that claim added (settings.MFA_FORMS).

The other one-time secrets are single-use by their own state, checked under a row lock:
recovery codes (allauth's used mask), emailed codes (a request leaves `verifying`),
password-reset links (bound to the password hash), parental-consent links (the request
leaves `requested`) and export links (the file is emptied).
"""

from __future__ import annotations

from typing import Any

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.db import IntegrityError, transaction

from qualipact.accounts.events import one_time_code_reused_event
from qualipact.accounts.models import UsedOneTimeCode


def totp_step(secret: str, code: str) -> int | None:
    """The time step within the accepted window whose code this is, or None."""
    for counter in yield_hotp_counters_from_time():
        if compare_user_code(actual=code, expected=format_hotp_value(hotp_value(secret, counter))):
            return counter
    return None


def totp_code_claim(*, user: Any, secret: str, code: str, flow: str) -> bool:
    """Claim the step of a valid code for this person: True the first time, False after.

    `flow` ("enrol", "sign_in", "reauthenticate") goes into the audit event of a refused
    reuse (733), never the code.
    """
    step = totp_step(secret, code)
    if step is None:
        return False
    try:
        with transaction.atomic():
            UsedOneTimeCode.objects.create(
                subject_id=user.subject_id, kind=UsedOneTimeCode.Kind.TOTP, step=step
            )
    except IntegrityError:
        with transaction.atomic():
            one_time_code_reused_event(user=user, kind=UsedOneTimeCode.Kind.TOTP, flow=flow)
        return False
    return True


# -- allauth's forms, with the claim (settings.MFA_FORMS) --------------------------------


class SingleUseActivateTOTPForm(ActivateTOTPForm):
    """Enrolment: the code that proves the app is set up is used up, like any other."""

    def clean_code(self) -> str:
        code: str = super().clean_code()
        if not totp_code_claim(user=self.user, secret=self.secret, code=code, flow="enrol"):
            raise get_adapter().validation_error("incorrect_code")
        return code


class _SingleUseCheck:
    """After allauth accepted a code: refuse it if its step was used in any flow."""

    flow = ""
    user: Any
    authenticator: Authenticator

    def _claim(self, code: str) -> str:
        if self.authenticator.type == Authenticator.Type.TOTP:
            secret = decrypt(self.authenticator.data["secret"])
            if not totp_code_claim(user=self.user, secret=secret, code=code, flow=self.flow):
                self._emit_authentication_failed(self.authenticator)  # type: ignore[attr-defined]
                raise get_adapter().validation_error("incorrect_code")
        return code


class SingleUseAuthenticateForm(_SingleUseCheck, AuthenticateForm):
    flow = "sign_in"

    def clean_code(self) -> str:
        return self._claim(super().clean_code())


class SingleUseReauthenticateForm(_SingleUseCheck, ReauthenticateForm):
    flow = "reauthenticate"

    def clean_code(self) -> str:
        return self._claim(super().clean_code())

"""Social login through OpenID Connect (Google, LinkedIn).

allauth runs the redirect, the code exchange and the account lookup by (provider, sub).
This module keeps allauth's tables free of personal data and puts our rules in front:

- what the provider says about the person (sub, name, email, email_verified) goes into
  `ExternalProfile`, encrypted under the person's key; `SocialAccount.extra_data` is saved
  empty and allauth's `EmailAddress` table is never written;
- the ID token's signature is always checked against the provider's published keys, even
  where allauth would skip it because it fetched the token itself;
- a first sign-in shows a sign-up form with the age gate: below the age of digital consent
  social sign-up is refused and nothing is stored (the normal sign-up asks a parent);
- an address that already has an account is never connected automatically (that would let
  whoever controls a provider account take the account over): its owner signs in and
  connects the provider from the connections page;
- children never use social login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import jwt
import requests
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount import signals
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.internal.flows.signup import redirect_to_signup
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from qualipact.accounts import age
from qualipact.accounts.events import account_social_linked_event
from qualipact.accounts.forms import AgeGateForm
from qualipact.accounts.models import ExternalProfile, User, username_validator
from qualipact.accounts.services.accounts import (
    account_by_email,
    account_create,
    account_verification_resend,
)
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError, VaultError
from qualipact.privacy.models import DataSubject

# Where the sealed profile waits in allauth's state between the callback and the form.
PENDING_STATE_KEY = "qualipact_profile"
PENDING_CONTEXT = "accounts.social.pending"
# Raw ID tokens seen in token-endpoint answers during this request (see _capture_id_token).
ID_TOKENS_ATTR = "_qualipact_id_tokens"
# Only asymmetric algorithms: a symmetric one would let the client secret sign tokens.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


@dataclass(frozen=True)
class ProviderProfile:
    """What one provider said about the person at one sign-in."""

    provider: str
    uid: str
    name: str
    email: str
    email_verified: bool


# -- services --------------------------------------------------------------------------


@transaction.atomic
def external_profile_save(*, subject: DataSubject, profile: ProviderProfile) -> ExternalProfile:
    """Keep the provider's latest answer, encrypted under the subject's key."""
    saved, _ = ExternalProfile.objects.update_or_create(
        subject=subject,
        provider=profile.provider,
        defaults={
            "uid": profile.uid,
            "name": profile.name or None,
            "email": profile.email or None,
            "email_verified": profile.email_verified,
            "received_at": timezone.now(),
        },
    )
    return saved


@transaction.atomic
def social_account_create(*, profile: ProviderProfile, username: str) -> SocialAccount:
    """A new account signed up through a provider: the account, the link and the profile.

    The provider's `email_verified` counts as our confirmation; otherwise we send ours and
    the account stays unusable until it is followed.
    """
    user = account_create(
        username=username,
        email=profile.email,
        password=None,
        email_verified=profile.email_verified,
        actor=Actor.system("social-sign-up"),
    )
    try:
        with transaction.atomic():
            account = SocialAccount.objects.create(
                user=user, provider=profile.provider, uid=profile.uid, extra_data={}
            )
    except IntegrityError:
        raise ApplicationError(
            "This provider account is already connected", {"provider": "taken"}
        ) from None
    external_profile_save(subject=user.subject, profile=profile)
    account_social_linked_event(user=user, provider=profile.provider, sign_up=True)
    if not profile.email_verified:
        account_verification_resend(email=profile.email)
    return account


@transaction.atomic
def social_account_connected(*, user: User, provider: str, profile: ProviderProfile | None) -> None:
    """A signed-in person connected a provider from the connections page."""
    if profile is not None:
        external_profile_save(subject=user.subject, profile=profile)
    account_social_linked_event(user=user, provider=provider, sign_up=False)


# -- the provider's answer ---------------------------------------------------------------


def _claims(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The claims allauth received: the ID token's, overridden by userinfo's."""
    if "id_token" in extra_data or "userinfo" in extra_data:
        return {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}
    return dict(extra_data)


def _is_true(value: Any) -> bool:
    # Some providers send "true" as a string.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _capture_id_token(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Remember the raw ID token of a token-endpoint answer, so we can check its signature."""
    request = context.request
    if request is None or response.request.method != "POST":
        return
    try:
        data = response.json()
    except ValueError:
        return
    if isinstance(data, dict) and isinstance(data.get("id_token"), str):
        setattr(request, ID_TOKENS_ATTR, [*getattr(request, ID_TOKENS_ATTR, []), data["id_token"]])


def _id_token_verify(request: HttpRequest, sociallogin: SocialLogin) -> dict[str, Any]:
    """Check the raw ID token: signature by the provider's key, issuer, audience, expiry."""
    tokens = getattr(request, ID_TOKENS_ATTR, [])
    if not tokens:
        raise OAuth2Error("The ID token was not seen in the token response")
    provider = sociallogin.provider
    try:
        openid_config = provider.get_oauth2_adapter(request).openid_config
        advertised = openid_config.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in advertised if a in ID_TOKEN_ALGORITHMS]
        _, key = jwtkit.fetch_key(tokens[-1], openid_config["jwks_uri"], jwtkit.lookup_kid_jwk)
        return jwt.decode(
            tokens[-1],
            key=key,
            algorithms=algorithms,
            audience=provider.app.client_id,
            issuer=openid_config["issuer"],
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            leeway=60,
        )
    except (jwt.PyJWTError, requests.RequestException, KeyError, TypeError, ValueError) as exc:
        raise OAuth2Error("The ID token was refused") from exc


def _pending_key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"qualipact.accounts.social.pending", hashlib.sha256
    ).digest()


def profile_seal(profile: ProviderProfile) -> dict[str, str]:
    """The profile, encrypted, for the session while the sign-up form is open."""
    seal_id = uuid.uuid4()
    sealed = vault.encrypt_with_key(
        _pending_key(),
        subject_id=seal_id,
        context=PENDING_CONTEXT,
        plaintext=json.dumps(asdict(profile)),
    )
    return {"id": str(seal_id), "sealed": base64.b64encode(sealed).decode()}


def profile_unseal(data: Any) -> ProviderProfile | None:
    if not isinstance(data, dict):
        return None
    try:
        plaintext = vault.decrypt_with_key(
            _pending_key(),
            subject_id=uuid.UUID(data["id"]),
            context=PENDING_CONTEXT,
            ciphertext=base64.b64decode(data["sealed"]),
        )
        return ProviderProfile(**json.loads(plaintext))
    except (VaultError, KeyError, TypeError, ValueError):
        return None


def username_suggest(name: str) -> str:
    """A free username from the name: letters, digits and dots, never an "@"."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", ".", folded.lower()).strip(".")[:24] or "member"
    if len(base) < 3:
        base = f"{base}.member"
    candidate = base
    for number in range(2, 100):
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
        candidate = f"{base}{number}"
    return f"{base}.{uuid.uuid4().hex[:5]}"


def _refuse(request: HttpRequest, template: str, status: int, **extra: Any) -> HttpResponse:
    return render(request, f"socialaccount/{template}", extra, status=status)


# -- allauth's hooks ---------------------------------------------------------------------


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_requests_session(self) -> requests.Session:
        session = super().get_requests_session()
        session.hooks["response"].append(_capture_id_token)
        return session

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # The account adapter closes allauth's own sign-up; ours is SocialSignupForm.
        return True

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False  # the age gate always comes first

    def authenticate_by_email(self, sociallogin: SocialLogin) -> None:
        return None  # never sign in to an existing account because the address matches

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> User:
        """Read the provider's answer into a ProviderProfile, then scrub allauth's copies."""
        extra_data = sociallogin.account.extra_data or {}
        claims = _claims(extra_data)
        if "id_token" in extra_data:
            verified = _id_token_verify(request, sociallogin)
            if str(verified.get("sub")) != sociallogin.account.uid:
                raise OAuth2Error("The ID token names another person than userinfo")
        email = claims.get("email")
        sociallogin._qualipact_profile = ProviderProfile(
            provider=sociallogin.account.provider,
            uid=sociallogin.account.uid,
            name=str(claims.get("name") or "")[:200],
            email=str(email).strip() if isinstance(email, str) else "",
            email_verified=bool(email) and _is_true(claims.get("email_verified")),
        )
        sociallogin.account.extra_data = {}
        sociallogin.email_addresses = []
        # The unsaved user carries nothing: username and address are set at sign-up.
        user = sociallogin.user
        assert isinstance(user, User)
        return user

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        profile: ProviderProfile | None = getattr(sociallogin, "_qualipact_profile", None)
        if profile is None:
            raise ImmediateHttpResponse(_refuse(request, "refused.html", 403, reason="error"))
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            if getattr(request.user, "is_child", False):
                raise ImmediateHttpResponse(_refuse(request, "refused.html", 403, reason="child"))
            sociallogin.state[PENDING_STATE_KEY] = profile_seal(profile)
            return
        if sociallogin.is_existing:
            user = sociallogin.user
            assert isinstance(user, User)
            if user.is_child:
                raise ImmediateHttpResponse(_refuse(request, "refused.html", 403, reason="child"))
            external_profile_save(subject=user.subject, profile=profile)
            return
        if not profile.email:
            raise ImmediateHttpResponse(_refuse(request, "refused.html", 403, reason="no_email"))
        if account_by_email(profile.email) is not None:
            raise ImmediateHttpResponse(
                _refuse(request, "email_in_use.html", 409, provider=sociallogin.provider)
            )
        sociallogin.state[PENDING_STATE_KEY] = profile_seal(profile)

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        profile = profile_unseal(sociallogin.state.get(PENDING_STATE_KEY))
        if profile is None or not isinstance(form, SocialSignupForm):
            raise ApplicationError("The sign-up took too long; please start again", {})
        account = social_account_create(profile=profile, username=form.cleaned_data["username"])
        sociallogin.account = account
        sociallogin.user = account.user
        return account.user


@receiver(signals.social_account_added, dispatch_uid="qualipact.accounts.social.connected")
def _on_social_account_added(
    sender: Any, request: HttpRequest, sociallogin: SocialLogin, **kwargs: Any
) -> None:
    user = sociallogin.user
    assert isinstance(user, User)
    social_account_connected(
        user=user,
        provider=sociallogin.account.provider,
        profile=profile_unseal(sociallogin.state.get(PENDING_STATE_KEY)),
    )


# -- the sign-up form ----------------------------------------------------------------------


class SocialSignupForm(AgeGateForm):
    """First sign-in through a provider: the age gate and a username. Nothing else is asked."""

    username = forms.CharField(
        max_length=30,
        validators=[username_validator],
        help_text="3 to 30 letters, digits, dots, underscores or hyphens. Shown to nobody else.",
    )

    def __init__(self, *args: Any, sociallogin: SocialLogin, **kwargs: Any) -> None:
        self.sociallogin = sociallogin
        self.profile = profile_unseal(sociallogin.state.get(PENDING_STATE_KEY))
        initial = dict(kwargs.pop("initial", None) or {})
        if self.profile is not None and not args and "data" not in kwargs:
            initial.setdefault("username", username_suggest(self.profile.name))
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken; choose another.")
        return username

    def child_until(self) -> date | None:
        return age.child_until(
            birth_date=self.cleaned_data["birth_date"],
            country=self.cleaned_data["country"],
            today=timezone.localdate(),
        )

    def try_save(self, request: HttpRequest) -> tuple[User | None, HttpResponse | None]:
        """allauth's entry point once the form is valid; the pending sign-up is already gone."""
        if self.profile is None:
            return None, _refuse(request, "refused.html", 400, reason="expired")
        if self.child_until() is not None:
            # Below the threshold: no account, no profile, and the session goes too.
            request.session.flush()
            return None, _refuse(request, "signup_child.html", 403)
        if account_by_email(self.profile.email) is not None:
            return None, _refuse(
                request, "email_in_use.html", 409, provider=self.sociallogin.provider
            )
        try:
            user = get_adapter(request).save_user(request, self.sociallogin, form=self)
        except ApplicationError:
            # Someone took the username or the address a moment ago: show the form again.
            return None, redirect_to_signup(request, self.sociallogin)
        return user, None

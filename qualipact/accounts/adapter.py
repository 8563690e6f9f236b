"""How allauth fits Qualipact: no plaintext email table, mail through the outbox, our pages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from qualipact.comms.services import email_queue
from qualipact.web.ratelimit import client_address

SITE_NAME = "Qualipact"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Sign-up is our own flow (age gate first); allauth's form is never used.
        return False

    def pre_login(
        self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any
    ) -> HttpResponse | None:
        refused = super().pre_login(request, user, **kwargs)
        if refused is not None:
            return refused
        if not getattr(user, "is_usable", False):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return render(request, "accounts/not_ready.html", {"account": user}, status=403)
        return None

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """allauth's notices (MFA changes and the like) go through the outbox, to the account."""
        user = context.get("user")
        if user is None or not hasattr(user, "subject"):
            return
        # allauth's templates greet from `current_site`; the sites framework is not used.
        site = SimpleNamespace(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        message = self.render_mail(template_prefix, user.email, {"current_site": site, **context})
        email_queue(
            subject=user.subject,
            to=user.email,
            subject_line=str(message.subject),
            body=str(message.body),
            purpose="security",
        )

    def send_notification_mail(
        self,
        template_prefix: str,
        user: AbstractBaseUser,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        # allauth looks the address up in its email table, which we keep empty.
        super().send_notification_mail(
            template_prefix,
            user,
            {**(context or {}), "user": user},
            email or user.email,  # type: ignore[attr-defined]
        )

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_address(request)

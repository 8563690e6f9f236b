"""How allauth's MFA fits Qualipact: no email in authenticator labels, a QR code the CSP allows."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser

from qualipact.privacy import vault

MFA_SEAL_CONTEXT = "mfa.authenticator.secret"


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        # TOTP seeds and recovery-code seeds are credentials: never stored in the clear.
        # allauth checks a code before it knows whose it is, so the site's master key (by
        # id, so it rotates) seals them rather than a person's own key.
        return vault.master_seal(MFA_SEAL_CONTEXT, text)

    def decrypt(self, encrypted_text: str) -> str:
        return vault.master_open(MFA_SEAL_CONTEXT, encrypted_text)

    def _get_user_identifier(self, user: AbstractBaseUser) -> str:
        # The name an authenticator app or a passkey manager shows next to the code. Only
        # the username: the address is personal data and stays encrypted on the account.
        return user.get_username()

    def get_totp_label(self, user: AbstractBaseUser) -> str:
        return self._get_user_identifier(user)

    def _get_site_name(self) -> str:
        # The relying party's name in passkey prompts, and the TOTP issuer fallback.
        return str(settings.MFA_TOTP_ISSUER)

    def build_totp_svg(self, url: str) -> str:
        # Rendered inline in the page, not as a data: URI (img-src is 'self' only), so
        # without the XML declaration; the markup has no style attribute and no script.
        svg = super().build_totp_svg(url)
        return svg[svg.index("<svg") :]

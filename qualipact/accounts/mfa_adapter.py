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


def mfa_seeds_reseal() -> int:
    """Re-seal TOTP and recovery-code seeds sealed under an older master key (vault_rotate)."""
    from allauth.mfa.models import Authenticator
    from django.db import transaction

    current = next(iter(settings.VAULT_MASTER_KEYS))
    count = 0
    seeded = Authenticator.objects.filter(
        type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    )
    for pk in seeded.values_list("pk", flat=True):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            data = dict(authenticator.data)
            changed = False
            for name in ("secret", "seed"):
                value = data.get(name)
                if isinstance(value, str) and vault.master_key_id_of(value) != current:
                    data[name] = _resealed(value)
                    changed = True
            # Recovery codes migrated from elsewhere are sealed one by one.
            migrated = data.get("migrated_codes")
            if isinstance(migrated, list) and any(
                vault.master_key_id_of(code) != current for code in migrated
            ):
                data["migrated_codes"] = [_resealed(code) for code in migrated]
                changed = True
            if changed:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                count += 1
    return count


def _resealed(value: str) -> str:
    return vault.master_seal(MFA_SEAL_CONTEXT, vault.master_open(MFA_SEAL_CONTEXT, value))

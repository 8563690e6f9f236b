"""MFA seeds are sealed under the master key, never stored in the clear."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from conftest import totp_code
from qualipact.privacy import vault
from qualipact.privacy.errors import VaultError

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_a_totp_seed_is_sealed_and_still_checks_codes(alice_account):
    secret = generate_totp_secret()
    totp = TOTP.activate(alice_account, secret)
    stored = Authenticator.objects.get(user=alice_account, type="totp").data["secret"]
    assert stored.startswith("m1.") and secret not in stored
    assert totp.validate_code(totp_code(secret))


def test_recovery_code_seeds_are_sealed(alice_account):
    codes = RecoveryCodes.activate(alice_account)
    stored = Authenticator.objects.get(user=alice_account, type="recovery_codes").data
    assert str(stored["seed"]).startswith("m1.")
    assert codes.validate_code(codes.get_unused_codes()[0])


def test_a_sealed_value_is_bound_to_its_context_and_refuses_tampering():
    sealed = vault.master_seal("mfa.authenticator.secret", "JBSWY3DPEHPK3PXP")
    assert vault.master_open("mfa.authenticator.secret", sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(VaultError):
        vault.master_open("another.context", sealed)
    with pytest.raises(VaultError):
        vault.master_open("mfa.authenticator.secret", "JBSWY3DPEHPK3PXP")


def test_vault_rotate_reseals_mfa_seeds_under_the_new_master_key(alice_account, settings):
    import io
    import os

    from django.core.management import call_command

    secret = generate_totp_secret()
    TOTP.activate(alice_account, secret)
    RecoveryCodes.activate(alice_account)
    old_keys = dict(settings.VAULT_MASTER_KEYS)
    settings.VAULT_MASTER_KEYS = {"mk-next": os.urandom(32), **old_keys}
    output = io.StringIO()
    call_command("vault_rotate", stdout=output)
    assert "re-sealed 2 mfa_authenticators under master key mk-next" in output.getvalue()
    # The old master key can go: the seeds still open, and codes still check.
    settings.VAULT_MASTER_KEYS = {"mk-next": settings.VAULT_MASTER_KEYS["mk-next"]}
    totp = Authenticator.objects.get(user=alice_account, type="totp")
    assert totp.data["secret"].startswith("m1.mk-next.")
    assert TOTP(totp).validate_code(totp_code(secret))
    codes = RecoveryCodes(Authenticator.objects.get(user=alice_account, type="recovery_codes"))
    assert codes.validate_code(codes.get_unused_codes()[0])

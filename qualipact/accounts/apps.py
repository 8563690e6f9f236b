from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qualipact.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        # signals: sign-in, sign-out and lockout hooks (session records, audit events).
        from qualipact.accounts import (  # noqa: F401
            child_rule,
            email_choice,
            events,
            signals,
        )

        # Children: no consent-based purpose, and only fields declared for children.
        child_rule.register()
        # "Email me about my account" off: no optional notices.
        email_choice.register()
        # A verified account address is one a person proved: mail selected by purpose
        # (a newsletter) may go there.
        from qualipact.accounts.selectors import verified_account_addresses
        from qualipact.privacy.addresses import proven_address_provider_register

        proven_address_provider_register("accounts", verified_account_addresses)

        # vault_rotate re-seals MFA seeds under the newest master key.
        from qualipact.accounts.mfa_adapter import mfa_seeds_reseal
        from qualipact.privacy import vault

        vault.reseal_hook_register("mfa_authenticators", mfa_seeds_reseal)

        # The outbox writes to an account's own addresses only (privacy.recipients).
        from qualipact.accounts.selectors import account_addresses
        from qualipact.privacy.recipients import recipient_source_register

        recipient_source_register("accounts", account_addresses)

        # Every complete erasure of a person (a request, retention, a parent) first signs
        # them out everywhere: their sessions end with their data.
        from qualipact.accounts.services import sessions_end_for_erasure
        from qualipact.privacy.erasure import erasure_step_register

        erasure_step_register("account_sessions", sessions_end_for_erasure)

        # The forms that take an address do the address-dependent work in the background.
        from qualipact.accounts.services import deferred_handlers_register

        deferred_handlers_register()

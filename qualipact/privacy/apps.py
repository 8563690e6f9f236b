from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "qualipact.privacy"
    label = "privacy"
    verbose_name = "Privacy core"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from qualipact.privacy.registry import registry

        # Each app declares its personal data in privacy.py; a bad declaration stops start-up.
        autodiscover_modules("privacy")
        registry.validate()

        # vault_rotate re-seals deferred work waiting under an older master key.
        from qualipact.privacy import vault
        from qualipact.privacy.deferred import deferred_reseal

        vault.reseal_hook_register("deferred_work", deferred_reseal)

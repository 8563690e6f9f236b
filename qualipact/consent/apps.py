from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "qualipact.consent"
    label = "consent"
    verbose_name = "Consent and preferences"

    def ready(self) -> None:
        from qualipact.consent import rules

        rules.register()

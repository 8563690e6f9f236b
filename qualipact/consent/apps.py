from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "qualipact.consent"
    label = "consent"
    verbose_name = "Consent and preferences"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.consent import (
            events,  # noqa: F401
            rules,
        )

        rules.register()

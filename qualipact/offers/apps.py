from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "qualipact.offers"
    label = "offers"
    verbose_name = "Content and offers"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.offers import events  # noqa: F401

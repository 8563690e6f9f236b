from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class BackofficeConfig(AppConfig):
    name = "qualipact.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.backoffice import events  # noqa: F401

        # Every app's staff pages (its `staff.py`), for the console's navigation.
        autodiscover_modules("staff")

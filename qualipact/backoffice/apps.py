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

        # Access transparency: count every committed staff view for the bulk-access alert.
        from qualipact.backoffice.access import staff_view_observed
        from qualipact.privacy.access import staff_view_observer_register

        staff_view_observer_register("backoffice.access_alert", staff_view_observed)

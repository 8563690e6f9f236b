from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "qualipact.rights"
    label = "rights"
    verbose_name = "Data-subject requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        # A request by email finds the address in the background (privacy.deferred).
        from qualipact.privacy.deferred import deferred_handler_register
        from qualipact.rights import events  # noqa: F401
        from qualipact.rights.services.requests import DEFERRED_BY_EMAIL, request_by_email_finish

        deferred_handler_register(DEFERRED_BY_EMAIL, request_by_email_finish)

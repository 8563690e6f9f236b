from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "qualipact.retention"
    label = "retention"
    verbose_name = "Retention and legal holds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.privacy.erasure import hold_source_register
        from qualipact.retention import events  # noqa: F401
        from qualipact.retention.services import LegalHoldSource

        # Every erasure and sweep keeps what an active legal hold covers.
        hold_source_register("legal_holds", LegalHoldSource())

from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "qualipact.contact"
    label = "contact"
    verbose_name = "Contact and inquiries"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.contact import events  # noqa: F401

        # The contact form stores the inquiry in the background (privacy.deferred).
        from qualipact.contact.services import DEFERRED_INQUIRY, inquiry_submit_finish
        from qualipact.privacy.deferred import deferred_handler_register

        deferred_handler_register(DEFERRED_INQUIRY, inquiry_submit_finish)

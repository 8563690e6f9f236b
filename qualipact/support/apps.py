from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "qualipact.support"
    label = "support"
    verbose_name = "Customer support"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        # The contact form stores its message in the background (privacy.deferred), as a
        # ticket, acknowledged to the sender.
        from qualipact.contact.services import DEFERRED_INQUIRY
        from qualipact.privacy.deferred import deferred_handler_register
        from qualipact.support import events  # noqa: F401
        from qualipact.support.services.tickets import ticket_open_finish

        deferred_handler_register(DEFERRED_INQUIRY, ticket_open_finish)

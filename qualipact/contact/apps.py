from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "qualipact.contact"
    label = "contact"
    verbose_name = "Contact and inquiries"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.contact import events  # noqa: F401
        # The contact form's background work (its deferred kind) is opening a ticket:
        # the support app registers it.

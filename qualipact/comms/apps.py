from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "qualipact.comms"
    label = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        # Register the app's audit codes at start-up, so an overlap stops it there.
        from qualipact.comms import events  # noqa: F401

        # An address confirmed by the newsletter's double opt-in is one a person proved.
        from qualipact.comms.newsletters import (
            DEFERRED_SIGNUP,
            confirmed_signup_addresses,
            newsletter_signup_finish,
        )
        from qualipact.privacy.addresses import proven_address_provider_register
        from qualipact.privacy.deferred import deferred_handler_register

        proven_address_provider_register("newsletter", confirmed_signup_addresses)
        # The newsletter form registers the address in the background (privacy.deferred).
        deferred_handler_register(DEFERRED_SIGNUP, newsletter_signup_finish)

from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "qualipact.comms"
    label = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        # The newsletter form registers the address in the background (privacy.deferred).
        from qualipact.comms.newsletters import DEFERRED_SIGNUP, newsletter_signup_finish
        from qualipact.privacy.deferred import deferred_handler_register

        deferred_handler_register(DEFERRED_SIGNUP, newsletter_signup_finish)

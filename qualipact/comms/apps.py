from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "qualipact.comms"
    label = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        # An address confirmed by the newsletter's double opt-in is one a person proved.
        from qualipact.comms.newsletters import confirmed_signup_addresses
        from qualipact.privacy.addresses import proven_address_provider_register

        proven_address_provider_register("newsletter", confirmed_signup_addresses)

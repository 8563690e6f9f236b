from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "qualipact.offers"
    label = "offers"
    verbose_name = "Content and offers"

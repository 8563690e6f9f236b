from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "qualipact.contact"
    label = "contact"
    verbose_name = "Contact and inquiries"

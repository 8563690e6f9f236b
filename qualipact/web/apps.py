from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qualipact.web"
    label = "web"
    verbose_name = "Site shell"

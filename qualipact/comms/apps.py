from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "qualipact.comms"
    label = "comms"
    verbose_name = "Communications"

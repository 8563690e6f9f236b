from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "qualipact.notices"
    label = "notices"
    verbose_name = "Privacy notices"

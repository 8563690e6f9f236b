from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "qualipact.analytics"
    label = "analytics"
    verbose_name = "Cookieless analytics"

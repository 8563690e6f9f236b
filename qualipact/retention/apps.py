from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "qualipact.retention"
    label = "retention"
    verbose_name = "Retention and legal holds"
    default_auto_field = "django.db.models.BigAutoField"

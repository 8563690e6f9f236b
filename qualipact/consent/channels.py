"""How a consent choice reached us: recorded on every ledger event (GDPR Art 7(1): the
controller must be able to show how consent was given). Other apps pass these values to
the consent services without importing the ledger's models."""

from django.db import models


class Channel(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    PREFERENCE_CENTRE = "preference_centre", "Preference centre"
    EMAIL_LINK = "email_link", "Link in an email"
    API = "api", "API"
    PARENT = "parent", "Parent or guardian"
    BROWSER_SIGNAL = "browser_signal", "Browser signal (GPC / DNT)"
    RIGHTS_REQUEST = "rights_request", "A request about your rights"

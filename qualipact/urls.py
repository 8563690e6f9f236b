from django.urls import include, path

from qualipact.api import api

urlpatterns = [
    path("", include("qualipact.web.urls")),
    path("", include("qualipact.notices.urls")),
    path("", include("qualipact.contact.urls")),
    path("", include("qualipact.consent.urls")),
    path("", include("qualipact.analytics.urls")),
    path("", include("qualipact.comms.urls")),
    path("", include("qualipact.offers.urls")),
    path("", include("qualipact.rights.urls")),
    path("", include("qualipact.support.urls")),
    path("", include("qualipact.backoffice.urls")),
    # Ours first: sign-up, verification, password reset and email change shadow allauth's.
    path("accounts/", include("qualipact.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
]

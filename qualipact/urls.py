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
    path("api/", api.urls),
]

from django.urls import include, path

urlpatterns = [
    path("", include("qualipact.web.urls")),
    path("", include("qualipact.notices.urls")),
    path("", include("qualipact.contact.urls")),
]

from django.urls import path

from qualipact.consent import views

app_name = "consent"
urlpatterns = [
    path("preferences/", views.preferences_signed_in, name="preferences"),
    path("preferences/<str:token>/", views.preferences_by_link, name="preferences_by_link"),
]

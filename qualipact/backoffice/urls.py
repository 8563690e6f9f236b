from django.urls import path

from qualipact.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("staff/", views.console, name="console"),
]

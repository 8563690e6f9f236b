from django.urls import path

from qualipact.analytics import views

app_name = "analytics"
urlpatterns = [
    path("staff/analytics/", views.dashboard, name="dashboard"),
]

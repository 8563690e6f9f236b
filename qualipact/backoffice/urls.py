from django.urls import path

from qualipact.backoffice.views import console, dashboard

app_name = "backoffice"
urlpatterns = [
    path("staff/", console.console, name="console"),
    # -- staff and roles
    # -- the DPO dashboard
    path("staff/dashboard/", dashboard.dashboard, name="dashboard"),
    # -- access transparency and security
]

from django.urls import path

from qualipact.backoffice.views import console

app_name = "backoffice"
urlpatterns = [
    path("staff/", console.console, name="console"),
    # -- staff and roles
    # -- the DPO dashboard
    # -- access transparency and security
]

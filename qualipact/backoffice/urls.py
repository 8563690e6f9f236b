from django.urls import path

from qualipact.backoffice.views import access, console

app_name = "backoffice"
urlpatterns = [
    path("staff/", console.console, name="console"),
    # -- staff and roles
    # -- the DPO dashboard
    # -- access transparency and security
    path("accounts/who-accessed/", access.who_accessed, name="who_accessed"),
    path(
        "accounts/children/<uuid:child_id>/who-accessed/",
        access.child_who_accessed,
        name="child_who_accessed",
    ),
    path("staff/security/", access.security, name="security"),
]

from django.urls import path

from qualipact.backoffice.views import access, console, dashboard, staff

app_name = "backoffice"
urlpatterns = [
    path("staff/", console.console, name="console"),
    # -- staff and roles
    path("staff/people/", staff.staff_list, name="staff_list"),
    path("staff/people/invite/", staff.staff_invite, name="staff_invite"),
    path(
        "staff/people/invitations/<uuid:invite_id>/cancel/",
        staff.staff_invite_cancel,
        name="staff_invite_cancel",
    ),
    path("staff/people/<uuid:user_id>/", staff.staff_member, name="staff_member"),
    path(
        "staff/people/<uuid:user_id>/deactivate/",
        staff.staff_deactivate,
        name="staff_deactivate",
    ),
    # The invitee is not signed in yet: not under staff/.
    path("join-staff/<str:token>/", staff.invite_accept, name="invite_accept"),
    # -- the DPO dashboard
    path("staff/dashboard/", dashboard.dashboard, name="dashboard"),
    # -- access transparency and security
    path("accounts/who-accessed/", access.who_accessed, name="who_accessed"),
    path(
        "accounts/children/<uuid:child_id>/who-accessed/",
        access.child_who_accessed,
        name="child_who_accessed",
    ),
    path("staff/security/", access.security, name="security"),
]

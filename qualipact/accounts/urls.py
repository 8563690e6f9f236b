from django.urls import path, re_path, reverse_lazy
from django.views.generic import RedirectView

from qualipact.accounts import views
from qualipact.web.submissions import confirmation_page

app_name = "accounts"
urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("signup/details/", views.sign_up_details, name="signup_details"),
    # Where the forms send the browser once they did their work (POST/redirect/GET).
    path(
        "signup/done/",
        confirmation_page("accounts/signup_done.html", flags=("child",)),
        name="signup_done",
    ),
    path(
        "verify/resend/sent/",
        confirmation_page("accounts/verify_email_resent.html"),
        name="verify_email_resent",
    ),
    path(
        "password/reset/sent/",
        confirmation_page("accounts/password_reset_sent.html"),
        name="password_reset_sent",
    ),
    path(
        "email/sent/",
        confirmation_page("accounts/email_change_sent.html"),
        name="email_change_sent",
    ),
    path("deleted/", confirmation_page("accounts/deleted.html"), name="deleted"),
    path(
        "children/deleted/",
        confirmation_page("accounts/children/deleted.html", flags=("withdrawn",)),
        name="child_deleted",
    ),
    path(
        "parent/consent/declined/",
        confirmation_page("accounts/children/consent_declined.html"),
        name="parental_consent_declined",
    ),
    path(
        "birth-date/done/",
        confirmation_page("accounts/children/birth_date_done.html", flags=("erased",)),
        name="birth_date_done",
    ),
    path("verify/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/<str:token>/", views.password_reset_set, name="password_reset_set"),
    # allauth's own reset link takes the token ours carries (Django's token generator)
    # but runs allauth's flow, which skips ours and keeps the token in a session: a
    # cookie for a visitor who is not signed in. Our emails never link to it.
    re_path(
        r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        RedirectView.as_view(url=reverse_lazy("accounts:password_reset")),
        name="password_reset_allauth_link",
    ),
    path("password/change/", views.password_change, name="password_change"),
    path("email/", views.email_change, name="email_change"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("preferences/", views.preferences, name="preferences"),
    path("delete/", views.delete_account, name="delete"),
    path("sessions/", views.sessions_list, name="sessions"),
    path("sessions/<uuid:session_id>/end/", views.session_end_view, name="session_end"),
    path("parent/consent/<str:token>/", views.parental_consent, name="parental_consent"),
    path("children/", views.children_list, name="children"),
    path("children/<uuid:child_id>/", views.child_detail, name="child_detail"),
    path("children/<uuid:child_id>/correct/", views.child_correct, name="child_correct"),
    path("children/<uuid:child_id>/download/", views.child_download, name="child_download"),
    path("children/<uuid:child_id>/delete/", views.child_delete, name="child_delete"),
    path("children/<uuid:child_id>/withdraw/", views.child_withdraw, name="child_withdraw"),
    path("birth-date/", views.birth_date, name="birth_date"),
    path("staff/underage/", views.staff_underage, name="staff_underage"),
    path("", views.home, name="home"),
]

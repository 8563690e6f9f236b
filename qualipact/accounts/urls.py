from django.urls import path

from qualipact.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("signup/details/", views.sign_up_details, name="signup_details"),
    path("verify/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/<str:token>/", views.password_reset_set, name="password_reset_set"),
    path("password/change/", views.password_change, name="password_change"),
    path("email/", views.email_change, name="email_change"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("preferences/", views.preferences, name="preferences"),
    path("delete/", views.delete_account, name="delete"),
    path("", views.home, name="home"),
]

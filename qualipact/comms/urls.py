from django.urls import path

from qualipact.comms import views

app_name = "comms"
urlpatterns = [
    path("newsletter/", views.newsletter_signup, name="newsletter_signup"),
    path("newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

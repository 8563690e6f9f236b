from django.urls import path

from qualipact.comms import staff_views, views

app_name = "comms"
urlpatterns = [
    path("newsletter/", views.newsletter_signup, name="newsletter_signup"),
    path("newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/fresh-link/", views.fresh_link, name="fresh_link"),
    path("staff/newsletters/", staff_views.newsletter_list, name="staff_newsletters"),
    path(
        "staff/newsletters/<uuid:newsletter_id>/send/",
        staff_views.newsletter_send,
        name="staff_newsletter_send",
    ),
]

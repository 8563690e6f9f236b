from django.urls import path

from qualipact.comms import staff_views, views
from qualipact.web.submissions import confirmation_page

app_name = "comms"
urlpatterns = [
    path("newsletter/", views.newsletter_signup, name="newsletter_signup"),
    path(
        "newsletter/sent/",
        confirmation_page("comms/signup_sent.html"),
        name="newsletter_signup_sent",
    ),
    path(
        "preferences/fresh-link/sent/",
        confirmation_page("comms/fresh_link_sent.html"),
        name="fresh_link_sent",
    ),
    path("newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/fresh-link/", views.fresh_link, name="fresh_link"),
    path("staff/newsletters/", staff_views.newsletter_list, name="staff_newsletters"),
    path(
        "staff/newsletters/<uuid:newsletter_id>/send/",
        staff_views.newsletter_send,
        name="staff_newsletter_send",
    ),
    path(
        "staff/newsletters/<uuid:newsletter_id>/sent/",
        staff_views.newsletter_sent,
        name="staff_newsletter_sent",
    ),
]

from django.urls import path

from qualipact.support import views

app_name = "support"

# The person's pages: their tickets (signed in), and a ticket opened from an emailed link.
person_urlpatterns = [
    path("support/link/<str:token>/", views.ticket_link, name="ticket_link"),
    path("support/", views.tickets, name="tickets"),
    path("support/tickets/<uuid:ticket_id>/", views.ticket, name="ticket"),
    path("support/tickets/<uuid:ticket_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("support/tickets/<uuid:ticket_id>/rate/", views.ticket_rate, name="ticket_rate"),
    path("support/link-sent/", views.link_sent, name="link_sent"),
    path("support/visit/reply/", views.visit_reply, name="visit_reply"),
    path("support/visit/rate/", views.visit_rate, name="visit_rate"),
]

# Staff pages (support agents and the DPO).
staff_urlpatterns: list = []

urlpatterns = person_urlpatterns + staff_urlpatterns

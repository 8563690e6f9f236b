from django.urls import path

from qualipact.support import views

app_name = "support"

# The person's pages: their tickets (signed in), and a ticket opened from an emailed link.
person_urlpatterns = [
    path("support/link/<str:token>/", views.ticket_link, name="ticket_link"),
]

# Staff pages (support agents and the DPO).
staff_urlpatterns: list = []

urlpatterns = person_urlpatterns + staff_urlpatterns

from django.urls import path

from qualipact.support import staff_views, views

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

# Staff pages (support agents and the DPO): a ticket under its queue's inbox (the inboxes
# are the contact app's), its actions, and the DPO's complaints.
staff_urlpatterns: list = [
    path("staff/dpo/complaints/", staff_views.complaints, name="staff_complaints"),
]
for _prefix, _queue in (("staff/support/", "support"), ("staff/dpo/messages/", "dpo")):
    for _name, _view in staff_views.queue_views(_queue).items():
        _segment = "" if _name == "ticket" else _name.replace("ticket_", "").replace("_", "/") + "/"
        staff_urlpatterns.append(
            path(f"{_prefix}<uuid:inquiry_id>/{_segment}", _view, name=f"staff_{_queue}_{_name}")
        )

urlpatterns = person_urlpatterns + staff_urlpatterns

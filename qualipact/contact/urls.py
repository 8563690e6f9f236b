from django.urls import path

from qualipact.contact import staff_views, views

app_name = "contact"
urlpatterns = [
    path("contact/", views.inquiry, name="inquiry"),
    path("contact/thanks/", views.thanks, name="thanks"),
]

# Each queue's staff pages: the support inbox and the messages to the DPO.
for _prefix, _queue, _pages in (
    ("staff/support/", "support", staff_views.support),
    ("staff/dpo/messages/", "dpo", staff_views.dpo),
):
    urlpatterns += [
        path(_prefix, _pages.inbox, name=f"staff_{_queue}_inbox"),
        path(f"{_prefix}<uuid:inquiry_id>/", _pages.message, name=f"staff_{_queue}_message"),
        path(f"{_prefix}<uuid:inquiry_id>/assign/", _pages.assign, name=f"staff_{_queue}_assign"),
        path(f"{_prefix}<uuid:inquiry_id>/status/", _pages.status, name=f"staff_{_queue}_status"),
    ]

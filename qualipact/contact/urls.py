from django.urls import path

from qualipact.contact import staff_views, views

app_name = "contact"
urlpatterns = [
    path("contact/", views.inquiry, name="inquiry"),
    path("contact/thanks/", views.thanks, name="thanks"),
]

# Each queue's inbox: the support inbox and the messages to the DPO. A message's page
# under it (`<prefix><id>/` and its actions) is the support app's ticket page.
for _prefix, _queue, _pages in (
    ("staff/support/", "support", staff_views.support),
    ("staff/dpo/messages/", "dpo", staff_views.dpo),
):
    urlpatterns += [path(_prefix, _pages.inbox, name=f"staff_{_queue}_inbox")]

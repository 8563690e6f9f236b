from django.urls import path

from qualipact.contact import views

app_name = "contact"
urlpatterns = [
    path("contact/", views.inquiry, name="inquiry"),
    path("contact/thanks/", views.thanks, name="thanks"),
]

from django.urls import path

from qualipact.offers import views

app_name = "offers"
urlpatterns = [
    path("offers/", views.offer_list, name="list"),
    path("offers/for/<str:token>/", views.offers_by_link, name="for_person"),
    path("offers/for/<str:token>/location/", views.location_from_browser, name="location"),
    path("offers/for/<str:token>/offer/<slug:slug>/", views.offer_by_link, name="offer_by_link"),
    path("offers/<slug:slug>/", views.offer_detail, name="detail"),
]

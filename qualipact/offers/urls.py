from django.urls import path

from qualipact.offers import views

app_name = "offers"
urlpatterns = [
    path("offers/", views.offer_list, name="list"),
    # Before offers/<slug>/: services.RESERVED_SLUGS keeps these paths free of offers.
    path("offers/for-you/", views.offers_signed_in, name="for_you"),
    path("offers/for-you/location/", views.location_signed_in, name="for_you_location"),
    path("offers/for-you/offer/<slug:slug>/", views.offer_signed_in, name="for_you_offer"),
    path("offers/for/<str:token>/", views.offers_by_link, name="for_person"),
    path("offers/for/<str:token>/location/", views.location_from_browser, name="location"),
    path("offers/for/<str:token>/offer/<slug:slug>/", views.offer_by_link, name="offer_by_link"),
    path("offers/<slug:slug>/", views.offer_detail, name="detail"),
]

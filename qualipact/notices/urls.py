from django.urls import path

from qualipact.notices import views

app_name = "notices"
urlpatterns = [
    path("privacy/", views.policy, name="policy"),
    path("privacy/v<int:number>/", views.policy_version, name="policy_version"),
]

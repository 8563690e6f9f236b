from django.urls import path

from qualipact.rights import views

app_name = "rights"
urlpatterns = [
    path("rights/", views.mine, name="mine"),
    path("rights/request/", views.by_email, name="request"),
    path("rights/verify/", views.verify, name="verify"),
    path("rights/status/", views.status, name="status"),
    path("rights/submitted/", views.submitted, name="submitted"),
    path("rights/child/<uuid:child_id>/", views.child, name="child"),
    path("rights/<uuid:request_id>/", views.detail, name="detail"),
    path("rights/<uuid:request_id>/appeal/", views.appeal, name="appeal"),
    path("rights/appeal/", views.appeal_by_link, name="appeal_by_link"),
    path("rights/download/<str:token>/", views.download, name="download"),
]

# The DPO queue (/staff/rights/), in the same namespace.
from qualipact.rights.dpo_urls import urlpatterns as dpo_urlpatterns  # noqa: E402

urlpatterns += dpo_urlpatterns

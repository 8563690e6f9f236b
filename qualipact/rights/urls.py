from django.urls import path

from qualipact.rights import views

app_name = "rights"
urlpatterns = [
    path("rights/download/<str:token>/", views.download, name="download"),
]

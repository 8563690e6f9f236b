from django.urls import path

from qualipact.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path(".well-known/gpc.json", views.gpc_json, name="gpc"),
]

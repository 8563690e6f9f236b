"""The project's URLs plus a few test pages, to test what is counted."""

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from qualipact.urls import urlpatterns as project_urlpatterns


def page(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """An HTML page that answers 200 to every method, to test what is counted."""
    return HttpResponse("<!doctype html><title>Test page</title>", content_type="text/html")


def item_page(request: HttpRequest, pk: int) -> HttpResponse:
    return page(request)


urlpatterns = [
    *project_urlpatterns,
    path("analytics-test/any-method/", page, name="analytics_test_page"),
    path("analytics-test/items/<int:pk>/", item_page, name="analytics_test_item"),
    re_path(r"^analytics-test/legacy/(?P<pk>[0-9]+)/$", page, name="analytics_test_legacy"),
    re_path(r"^analytics-test/unnamed/([0-9]+)/$", page),
]

"""Shared HTTP helpers: links to the site's pages, and the signed-in account of a page."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from qualipact.web.links import site_url
from qualipact.web.people import signed_in_user

# The project's user model, without importing a feature app from web.
User = get_user_model()


def test_it_builds_absolute_links_from_the_site_url(settings):
    settings.SITE_URL = "https://example.org/"
    assert site_url("accounts:sessions") == "https://example.org/accounts/sessions/"
    assert site_url("rights:download", "abc").startswith("https://example.org/")
    assert site_url("accounts:verify_email", token="abc").endswith("/abc/")


def test_it_refuses_a_request_without_a_signed_in_account():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        signed_in_user(request, User)


def test_it_returns_the_signed_in_account():
    request = RequestFactory().get("/")
    request.user = User(username="someone")
    assert signed_in_user(request, User) is request.user

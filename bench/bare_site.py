"""The bare Django project bench/web.py measures the product against: settings, one view
and the WSGI application in one module, served by the same gunicorn command and worker
count as the product (`python -m gunicorn bare_site:application --pythonpath bench`,
with DJANGO_SETTINGS_MODULE=bare_site).

The settings are those `django-admin startproject` writes (its apps, its middleware,
nothing more), with DEBUG off and no database at all: any database access would raise.
The one view answers each page listed in the environment variable BARE_SITE_PAGES (JSON:
method, path, status, body size in bytes and, for a redirect, its Location) with a static
body of that size, built once when the worker starts; anything else is a 404.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

PAGES_ENV = "BARE_SITE_PAGES"

# -- settings: startproject's, with DEBUG off and no database -------------------------

SECRET_KEY = secrets.token_urlsafe(50)  # nothing is signed: any key will do
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bare_site"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "bare_site.application"
DATABASES: dict[str, dict[str, str]] = {}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# -- the pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    location: str


def pages_from_env() -> dict[tuple[str, str], Page]:
    """(method, path) -> the page to answer, from BARE_SITE_PAGES."""
    pages = {}
    for entry in json.loads(os.environ.get(PAGES_ENV, "[]")):
        pages[(entry["method"], entry["path"])] = Page(
            status=int(entry["status"]),
            body=b"x" * int(entry["bytes"]),
            location=entry.get("location", ""),
        )
    return pages


PAGES = pages_from_env()


# The product's forms are protected by a check of the browser's Sec-Fetch-Site header, not
# a token; startproject's CSRF middleware would refuse the same POST without one.
@csrf_exempt
def page(request: HttpRequest) -> HttpResponse:
    served = PAGES.get((request.method or "", request.path))
    if served is None:
        raise Http404
    response = HttpResponse(served.body, status=served.status)
    if served.location:
        response["Location"] = served.location
    return response


urlpatterns = [re_path(r"", page)]


def _application() -> object:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_site")
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


application = _application()

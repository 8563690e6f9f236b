"""`Cache-Control: no-store` on everything a signed-in person or a token holder is sent,
for every URL pattern the resolver knows (ours, allauth's, the API's), and the right Vary."""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

SAMPLES = (str(uuid.UUID(int=7)), "1", "sample-token")


def _patterns(resolver=None, prefix=""):
    """(regex of the whole path, pattern) for every URL pattern, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, regex)
        elif isinstance(entry, URLPattern):
            yield regex, entry


def _concrete(regex, entry):
    """A path that the resolver sends to `entry`'s view; else one it sends to an earlier
    pattern that shadows this one (ours before allauth's); None when nothing resolves."""
    shadowed = None
    for template, params in normalize(regex):
        for sample in SAMPLES:
            path = "/" + template % dict.fromkeys(params, sample)
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.func == entry.callback:
                return path
            shadowed = shadowed or path
    return shadowed


def every_path():
    paths = {}
    for regex, entry in _patterns():
        path = _concrete(regex, entry)
        assert path is not None, f"no sample path reaches {regex}"
        paths.setdefault(path, regex)
    return sorted(paths)


def test_it_enumerates_ours_allauths_and_the_apis_urls():
    paths = every_path()
    for expected in ("/accounts/2fa/", "/accounts/3rdparty/", "/api/preferences", "/rights/"):
        assert expected in paths, expected
    assert len(paths) > 60


@pytest.mark.parametrize("who", ["person", "dpo"])
def test_it_sends_no_store_and_vary_cookie_on_every_page_signed_in(alice_account, dpo_user, who):
    client = Client(raise_request_exception=False)
    client.force_login(alice_account if who == "person" else dpo_user)
    missing = []
    for path in every_path():
        response = client.get(path)
        cache_control = response.get("Cache-Control", "")
        vary = response.get("Vary", "")
        if "no-store" not in cache_control or "Cookie" not in vary:
            missing.append((path, response.status_code, cache_control, vary))
    assert not missing, missing


def test_it_sends_no_store_and_vary_authorization_to_a_link_token_holder(link_token):
    client = Client(raise_request_exception=False)
    missing = []
    for path in every_path():
        response = client.get(path, headers={"Authorization": f"Bearer {link_token}"})
        if "no-store" not in response.get("Cache-Control", "") or "Authorization" not in (
            response.get("Vary", "")
        ):
            missing.append((path, response.status_code, dict(response.headers)))
    assert not missing, missing


def test_it_sends_no_store_on_every_page_whose_url_holds_a_token_or_an_id():
    client = Client(raise_request_exception=False)
    for path in every_path():
        if resolve(path).kwargs:
            assert "no-store" in client.get(path).get("Cache-Control", ""), path


def test_it_keeps_no_store_when_a_personal_view_asked_for_caching(alice_client, monkeypatch):
    from django.views.decorators.cache import cache_control

    from qualipact.web import views

    monkeypatch.setattr(views, "home", cache_control(public=True, max_age=600)(views.home))
    # The URL conf holds the original function; patch its pattern's callback for the test.
    match = resolve("/")
    pattern = next(p for p in get_resolver().url_patterns[0].url_patterns if p.name == "home")
    monkeypatch.setattr(pattern, "callback", views.home)
    assert resolve("/").func is views.home and match is not None
    assert alice_client.get("/")["Cache-Control"] == "no-store"
    anonymous = Client().get("/")
    assert "max-age=600" in anonymous["Cache-Control"]

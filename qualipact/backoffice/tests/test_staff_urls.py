"""Every staff URL, enumerated from the URL resolver, tried with every role and with none.

A staff page is any route under `staff/` (or `.../staff/...`). Each must be wrapped in
`role_required`/`staff_required` (which records the roles it lets in), must refuse
every other role with 403, must send an anonymous visitor to sign in, must refuse
non-staff and staff without MFA, and must be reachable from the console: listed there,
or named in `reaches` of a page that is. Form targets that answer only POST are not
pages and need no link.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import PASSWORD, account_for, role_give
from qualipact.web.console import staff_pages
from qualipact.web.roles import ALL_ROLES, Role, staff_roles_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_SAMPLE = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "1", "slug": lambda: "x"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    view: object

    @property
    def path(self) -> str:
        return "/" + _CONVERTER.sub(
            lambda m: _SAMPLE.get(m.group(1) or "str", lambda: "x")(), self.route
        )


def staff_routes() -> list[Route]:
    routes = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = entry.namespace or namespace
                walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern) and (
                route.startswith("staff/") or "/staff/" in route
            ):
                name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
                routes.append(Route(route, name, entry.callback))

    walk(get_resolver().url_patterns, "", "")
    return routes


STAFF_ROUTES = staff_routes()


def staff_member(username: str, *roles: Role, mfa: bool = True):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from qualipact.accounts.services import account_create

    user = account_create(
        username=username,
        email=f"{username}@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    if mfa:
        TOTP.activate(user, generate_totp_secret())
    for role in roles:
        role_give(user, role)
    return user


def test_it_finds_the_staff_pages_of_every_app():
    names = {route.name for route in STAFF_ROUTES}
    assert {"backoffice:console", "rights:dpo_queue", "accounts:staff_underage"} <= names


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.route)
def test_it_guards_every_staff_url_with_a_role_check(route):
    assert staff_roles_of(route.view) is not None, f"{route.route} has no role check"


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.route)
def test_it_refuses_every_staff_url_to_people_without_the_role(client, route):
    allowed = staff_roles_of(route.view) or frozenset()
    response = client.get(route.path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    client.force_login(account_for("alice"))
    assert client.get(route.path).status_code == 403
    client.force_login(staff_member("nomfa", *Role, mfa=False))
    response = client.get(route.path)
    assert response.status_code == 403 and "data-mfa-required" in response.text

    for role in Role:
        client.force_login(staff_member(f"as_{role.value}", role))
        status = client.get(route.path).status_code
        if role in allowed:
            assert status in (200, 404, 405), (role, status)
        else:
            assert status == 403, (role, status)
            assert client.post(route.path, {}).status_code == 403


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.route)
def test_it_reaches_every_staff_page_from_the_console(client, route):
    reachable = {page.url_name for page in staff_pages()} | {
        name for page in staff_pages() for name in page.reaches
    }
    reachable.add("backoffice:console")
    if route.name in reachable:
        return
    client.force_login(staff_member("everyone", *Role))
    assert client.get(route.path).status_code == 405, (
        f"{route.route} is a page no console entry lists or reaches"
    )


# Who needs each console page: the policy, written down (least privilege, Art 5(1)(f),
# Art 32(4)). A new page, or a page opened to more roles, fails until it is added here:
# widening access is a decision, not a side effect of a decorator.
POLICY = {
    "backoffice:staff_list": {Role.ADMINISTRATOR},
    "comms:staff_newsletters": {Role.ADMINISTRATOR},
    "rights:dpo_queue": {Role.DPO},
    "rights:dpo_appeals": {Role.DPO},
    "rights:dpo_holds": {Role.DPO},
    "backoffice:dashboard": {Role.DPO},
    "contact:staff_dpo_inbox": {Role.DPO},
    "accounts:staff_underage": {Role.DPO},
    "backoffice:security": {Role.SECURITY_OFFICER},
    "contact:staff_support_inbox": {Role.SUPPORT_AGENT},
    # Complaints' deadlines (references and dates; a ticket's page records its reading).
    "support:staff_complaints": {Role.DPO},
    # Aggregates only, k-anonymous: every staff member.
    "analytics:dashboard": set(Role),
}


def test_it_opens_each_console_page_to_the_roles_the_policy_names():
    opened = {page.url_name: set(page.roles) for page in staff_pages()}
    assert opened == POLICY


@pytest.mark.parametrize("page", staff_pages(), ids=lambda p: p.url_name)
def test_it_lists_each_page_for_exactly_the_roles_its_view_lets_in(page):
    from django.urls import resolve, reverse

    assert page.roles == staff_roles_of(resolve(reverse(page.url_name)).func)


def test_it_shows_each_role_only_its_own_pages_and_every_link_opens(client):
    from django.urls import reverse

    for role in Role:
        client.force_login(staff_member(f"console_{role.value}", role))
        response = client.get("/staff/")
        assert response.status_code == 200
        for page in staff_pages():
            listed = f'data-console-page="{page.url_name}"' in response.text
            assert listed == (page.roles is ALL_ROLES or role in page.roles), (role, page.url_name)
            if listed:
                assert client.get(reverse(page.url_name)).status_code == 200, page.url_name


def test_it_links_the_console_from_the_site_header_for_staff_only(client):
    client.force_login(account_for("alice"))
    assert "data-nav-staff" not in client.get("/").text
    client.force_login(staff_member("header", Role.DPO))
    assert "data-nav-staff" in client.get("/").text

"""Irreversible and data-revealing actions need a recent re-authentication and an explicit
confirmation, on every channel (hardening item 3), decided in one place: qualipact.web.reauth.

Being signed in is not enough: a session left open on a shared computer, or stolen, must
not erase an account or hand out its data. Every page and API operation marked sensitive
is found from the URL resolver; each must appear in the matrix below, which shows, for
each, that a stale session is refused and changes nothing, that a missing confirmation is
refused, and that with both the action goes ahead.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import PASSWORD, account_for, run_deferred
from qualipact.accounts.models import User
from qualipact.accounts.services import children
from qualipact.accounts.tests.test_children import child_sign_up, consent_token
from qualipact.rights.models import DataRequest
from qualipact.web.reauth import SensitiveAction

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

REAUTHENTICATE = "/accounts/reauthenticate/"


def sign_in(name: str = "alice") -> tuple[Client, User]:
    user = User.objects.filter(username=name).first() or account_for(name)
    client = Client()
    response = client.post("/accounts/login/", {"login": name, "password": PASSWORD})
    assert response.status_code == 302
    return client, user


def reauthenticate(client: Client) -> None:
    response = client.post(REAUTHENTICATE, {"password": PASSWORD})
    assert response.status_code == 302


@dataclass
class Case:
    """One sensitive action on one channel.

    `act(client, confirmed)` performs it and returns the response; `happened()` tells
    whether it took effect; `refused_stale` checks the refusal of a stale session.
    """

    setup: Callable[[], dict]
    act: Callable[[Client, dict, bool], object]
    happened: Callable[[dict], bool]
    api: bool = False


def _requests_of(user: User, kind: str) -> bool:
    return DataRequest.objects.filter(subject=user.subject, kind=kind).exists()


def _rights_form(kind: str, box: str) -> Case:
    def setup():
        client, user = sign_in()
        return {"client": client, "user": user}

    def act(client, ctx, confirmed):
        data = {"kind": kind, box: "on"} if confirmed else {"kind": kind}
        return client.post("/rights/", data)

    return Case(setup, act, lambda ctx: _requests_of(ctx["user"], kind))


def _rights_api(kind: str) -> Case:
    def setup():
        client, user = sign_in()
        return {"client": client, "user": user}

    def act(client, ctx, confirmed):
        return client.post(
            "/api/rights/requests",
            {"kind": kind, "confirm": confirmed},
            content_type="application/json",
        )

    return Case(setup, act, lambda ctx: _requests_of(ctx["user"], kind), api=True)


def _family() -> dict:
    client, parent = sign_in()
    child = child_sign_up(parent_email="alice.marchetti@example.org")
    children.parental_consent_grant(token=consent_token(child), parent=parent)
    return {"client": client, "user": parent, "child": child}


def _parent_rights(kind: str, box: str) -> Case:
    def act(client, ctx, confirmed):
        data = {"kind": kind, box: "on"} if confirmed else {"kind": kind}
        return client.post(f"/rights/child/{ctx['child'].pk}/", data)

    return Case(_family, act, lambda ctx: _requests_of(ctx["child"], kind))


def _child_gone(ctx) -> bool:
    return not User.objects.filter(pk=ctx["child"].pk).exists()


def _child_action(segment: str, prefix: str) -> Case:
    def act(client, ctx, confirmed):
        data = {f"{prefix}-confirm": "on"} if confirmed else {}
        return client.post(f"/accounts/children/{ctx['child'].pk}/{segment}/", data)

    return Case(_family, act, _child_gone)


def _child_correct() -> Case:
    def act(client, ctx, confirmed):
        data = {"username": "kim", "email": "kim.new@example.org"}
        return client.post(f"/accounts/children/{ctx['child'].pk}/correct/", data)

    def happened(ctx) -> bool:
        run_deferred()  # the address-dependent part runs in the background
        # The child confirms the new address by its link; until then it waits.
        return User.objects.get(pk=ctx["child"].pk).pending_email == "kim.new@example.org"

    return Case(_family, act, happened)


def _email_change() -> Case:
    def setup():
        client, user = sign_in()
        return {"client": client, "user": user}

    def act(client, ctx, confirmed):
        # The confirmation of an email change is the link sent to the new address.
        return client.post("/accounts/email/", {"email": "alice.new@example.org"})

    def happened(ctx) -> bool:
        run_deferred()  # the address-dependent part runs in the background
        return bool(User.objects.get(pk=ctx["user"].pk).pending_email)

    return Case(setup, act, happened)


def _account_deletion() -> Case:
    def setup():
        client, user = sign_in()
        return {"client": client, "user": user}

    def act(client, ctx, confirmed):
        return client.post(
            "/accounts/delete/", {"confirm": "delete my account" if confirmed else "yes"}
        )

    return Case(setup, act, lambda ctx: not User.objects.filter(pk=ctx["user"].pk).exists())


def _mfa_removal() -> Case:
    def setup():
        client, user = sign_in()
        TOTP.activate(user, generate_totp_secret())
        return {"client": client, "user": user}

    def act(client, ctx, confirmed):
        return client.post("/accounts/2fa/totp/deactivate/", {})

    return Case(
        setup,
        act,
        lambda ctx: (
            not Authenticator.objects.filter(
                user=ctx["user"], type=Authenticator.Type.TOTP
            ).exists()
        ),
    )


CASES: dict[str, Case] = {
    "rights:mine erasure": _rights_form("erasure", "confirm_erasure"),
    "rights:mine access": _rights_form("access", "confirm_export"),
    "rights:mine portability": _rights_form("portability", "confirm_export"),
    "rights:child erasure": _parent_rights("erasure", "confirm_erasure"),
    "rights:child access": _parent_rights("access", "confirm_export"),
    "api:rights erasure": _rights_api("erasure"),
    "api:rights access": _rights_api("access"),
    "api:rights portability": _rights_api("portability"),
    "accounts:email_change": _email_change(),
    "accounts:delete": _account_deletion(),
    "accounts:child_delete": _child_action("delete", "delete"),
    "accounts:child_withdraw": _child_action("withdraw", "withdraw"),
    "accounts:child_correct": _child_correct(),
    "mfa_deactivate_totp": _mfa_removal(),
}
# Confirmed by the act itself: a form whose only purpose is the action (allauth's
# "deactivate" button) or a link emailed to the new address (an email change; a parent's
# correction of the child's address is confirmed by the child at the new address).
CONFIRMED_BY_THE_ACT = {"accounts:email_change", "accounts:child_correct", "mfa_deactivate_totp"}


def _marked_views(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _marked_views(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            actions = getattr(pattern.callback, "sensitive_actions", None)
            if actions:
                yield f"{namespace}{pattern.name}", actions


def test_every_page_marked_sensitive_is_in_the_matrix():
    marked = dict(_marked_views(get_resolver().url_patterns))
    covered = {key.split(" ")[0] for key in CASES}
    assert set(marked) <= covered, sorted(set(marked) - covered)
    # Each action of the policy is exercised on at least one channel.
    assert {str(a) for actions in marked.values() for a in actions} | {
        SensitiveAction.MFA_REMOVAL
    } == {str(a) for a in SensitiveAction}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_stale_session_is_refused_and_changes_nothing(name):
    case = CASES[name]
    ctx = case.setup()
    response = case.act(ctx["client"], ctx, True)
    if case.api:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "reauthentication_required"
    else:
        assert response.status_code == 302
        assert (
            response["Location"].startswith(REAUTHENTICATE)
            or "reauthenticate" in (response["Location"])
        )
    assert not case.happened(ctx)


@pytest.mark.parametrize("name", sorted(set(CASES) - CONFIRMED_BY_THE_ACT))
def test_without_an_explicit_confirmation_nothing_happens(name):
    case = CASES[name]
    ctx = case.setup()
    reauthenticate(ctx["client"])
    response = case.act(ctx["client"], ctx, False)
    assert response.status_code in (400, 422)
    if case.api:
        assert response.json()["error"]["code"] == "confirmation_required"
    assert not case.happened(ctx)


@pytest.mark.parametrize("name", sorted(CASES))
def test_with_a_recent_sign_in_and_a_confirmation_it_goes_ahead(name):
    case = CASES[name]
    ctx = case.setup()
    reauthenticate(ctx["client"])
    response = case.act(ctx["client"], ctx, True)
    assert response.status_code in (200, 201, 302, 303), response.status_code
    assert case.happened(ctx)

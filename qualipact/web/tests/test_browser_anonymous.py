"""Every URL an anonymous visitor can reach, in one real browser: no cookie, no browser
storage, no request to another origin.

The URL patterns come from the URL resolver, not from a list kept here. VALUES holds one
factory per pattern: it gives the paths to visit, with real parameter values made through
the services (the links our emails carry: verify, reset, email change, a parent's consent,
newsletter confirmation, preference centre, unsubscribe, offers, export download; real
ids of requests, children, sessions, ...) and invalid ones. A pattern without a factory
fails the test, so a new URL cannot escape it; staff pages without one of their own get
`staff_page` (one visit with made-up ids: the role check answers before any lookup).

Each path is opened in Chromium. A page that needs a signed-in session must send the
visitor to sign in. Every form on every page is then sent: as rendered (empty, or just
its button), with invalid input in every field, and with valid input where that is cheap
(VALID, by the form's target); the pages those answers show have their forms sent too.
After each step the browser must hold no cookie and nothing in localStorage,
sessionStorage, IndexedDB or Cache Storage, and no request may have gone to another
origin. Chromium is the system one (`apt-get install chromium`), never a downloaded one.

Left out on purpose, because they are where a visitor chooses to sign in: the sign-in
form with a right password, and the button that leaves for Google or LinkedIn (both set
the one session cookie that signing in needs; test_browser_accounts and
test_social_login cover them).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from conftest import STORAGE_PROBE, browser_context, browser_launch, run_deferred

# Google, configured against a real OpenID Connect provider on 127.0.0.1.
from qualipact.accounts.tests.test_social_login import provider  # noqa: F401 (a fixture)

SIGN_IN = "/accounts/login/"
PASSWORD = "correct horse battery staple 42"
NO_STORAGE = {"local": [], "session": [], "indexedDB": [], "caches": []}


def url_patterns() -> dict[str, URLPattern]:
    """Every URL pattern of the site by its full route, from the resolver."""
    found: dict[str, URLPattern] = {}

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, route)
            else:
                found.setdefault(route, entry)  # a second pattern on a route is shadowed

    walk(get_resolver(), "")
    return found


# -- the world the values come from, made through the services ---------------------------


@dataclass
class World:
    """What the factories draw on: emailed links by route, and real ids."""

    emailed: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def links(self, route: str) -> list[str]:
        found = self.emailed.get(route, [])
        assert found, f"no emailed link for {route}: the world below must send one"
        return found


def world_build(base: str) -> World:
    """Accounts (an adult who has not confirmed, a verified one, a child waiting for a
    parent), a newsletter sign-up, a preference link, an export, a legal hold, a
    newsletter issue; every email they cause stays queued, and its links are read."""
    from django.core.management import call_command
    from django.test import Client

    from qualipact.accounts.models import AccountSession
    from qualipact.accounts.services import (
        account_create,
        account_email_change_request,
        account_sign_up,
        password_reset_request,
    )
    from qualipact.comms import newsletters
    from qualipact.comms.models import OutboundEmail
    from qualipact.consent.selectors import consent_wording_current
    from qualipact.consent.services import preference_link_issue
    from qualipact.offers.models import Offer
    from qualipact.privacy.audit import Actor
    from qualipact.retention.services import legal_hold_place
    from qualipact.rights.models import DataRequest
    from qualipact.rights.services import fulfil, request_by_email, request_submit

    world = World()
    call_command("offers_demo_catalogue", if_empty=True, stdout=io.StringIO())
    world.ids["offer"] = Offer.objects.order_by("slug").values_list("slug", flat=True)[0]

    account_sign_up(
        username="ulla", email="ulla.unconfirmed@example.org", password=PASSWORD, child_until=None
    )
    # Two more, for the forms' valid input: a new reset or verification link for Vera or
    # Ulla would void the one the world sent them.
    account_create(
        username="rita", email="rita.reset@example.org", password=PASSWORD, email_verified=True
    )
    account_create(username="una", email="una.unconfirmed@example.org", password=PASSWORD)
    vera = account_create(
        username="vera", email="vera.verified@example.org", password=PASSWORD, email_verified=True
    )
    child = account_sign_up(
        username="kim",
        email="kim.child@example.org",
        password=PASSWORD,
        child_until=date(timezone_year() + 4, 1, 1),
        parent_email="pat.parent@example.org",
    ).user
    newsletters.newsletter_signup(
        email="nina.news@example.org",
        wording_sha256=consent_wording_current(newsletters.PURPOSE).sha256,
    )
    world.ids["preference_token"] = preference_link_issue(subject=vera.subject)

    request = request_submit(
        subject=vera.subject,
        kind=DataRequest.Kind.ACCESS,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(vera.subject_id),
    )
    fulfil.request_fulfil(request_id=request.pk)
    world.ids["request"] = str(request.pk)
    from qualipact.rights.views.person import _receipt_token

    world.ids["receipt"] = _receipt_token(request)
    world.ids["ticket"] = request_by_email(
        email="vera.verified@example.org", kind=DataRequest.Kind.RESTRICTION
    )
    world.ids["hold"] = str(
        legal_hold_place(subject=vera.subject, basis="legal_claims", actor=Actor.system("test")).pk
    )
    world.ids["newsletter"] = str(
        newsletters.newsletter_write(
            subject_line="Spring news", body="What is new this spring.", actor=Actor.system("test")
        ).pk
    )
    world.ids["child"] = str(child.pk)
    # An invitation to join the staff, from an administrator.
    from qualipact.backoffice.services import staff_invite
    from qualipact.backoffice.tests.conftest import make_staff
    from qualipact.web.roles import Role

    admin = make_staff("adele", Role.ADMINISTRATOR)
    staff_invite(email="ines.invited@example.org", roles=[Role.DPO], by=admin)

    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    # A signed-in session of Vera's (in another browser), for the "end this session" URL.
    signed_in = Client()
    assert signed_in.post(SIGN_IN, {"login": "vera", "password": PASSWORD}).status_code == 302
    world.ids["session"] = str(AccountSession.objects.get(subject=vera.subject).pk)
    world.ids["authenticator"] = str(TOTP.activate(vera, generate_totp_secret()).instance.pk)
    # Last: signing in (above) changes what a reset link is bound to. allauth's own
    # reset link (we send ours) is made of the same token.
    vera.refresh_from_db()
    world.ids["uidb36"] = user_pk_to_url_str(vera)
    world.ids["reset_key"] = default_token_generator.make_token(vera)
    password_reset_request(email=vera.email)
    # Erik's, not Vera's: a changed address voids the reset links sent before.
    erik = account_create(
        username="erik", email="erik.old@example.org", password=PASSWORD, email_verified=True
    )
    account_email_change_request(user=erik, new_email="erik.new@example.org")

    # A complaint through the contact form's background work, answered: its acknowledgement
    # carries the link that opens it without an account (with a reply and a rating form).
    from qualipact.contact.models import Inquiry
    from qualipact.support.models import TicketMessage
    from qualipact.support.services.tickets import ticket_open

    complaint = ticket_open(
        kind="complaint",
        country="FR",
        name="Walter Walker",
        email="walter.walker@example.org",
        subject_line="My data was shared",
        message="You shared my address with a partner without asking me first.",
    )
    TicketMessage.objects.create(
        inquiry=complaint,
        subject_id=complaint.subject_id,
        kind=TicketMessage.Kind.ANSWER,
        body="We are sorry: the partner has deleted it.",
    )
    Inquiry.objects.filter(pk=complaint.pk).update(status=Inquiry.Status.ANSWERED)
    world.ids["support_ticket"] = str(complaint.pk)

    for email in OutboundEmail.objects.all():
        for link in re.findall(re.escape(base) + r"(/[^\s<>\"]*)", email.body):
            match = resolve(urlsplit(link).path)
            world.emailed.setdefault(match.route, []).append(urlsplit(link).path)
    return world


def timezone_year() -> int:
    from django.utils import timezone

    return timezone.localdate().year


# -- what to visit, per URL pattern --------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    path: str
    signs_in: bool = False  # needs a signed-in session: the visitor is sent to sign in


Factory = Callable[[World], list[Visit]]
NOT_A_TOKEN = "not-a-real-token"
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def page(path: str) -> Factory:
    return lambda world: [Visit(path)]


def signed_in_only(*paths: str) -> Factory:
    return lambda world: [Visit(path, signs_in=True) for path in paths]


def staff_page(route: str) -> Factory:
    """A staff page with no factory of its own: role_required sends an anonymous visitor
    to sign in before it looks at any id, so one visit with made-up ids covers it."""
    path = "/" + re.sub(r"<uuid:\w+>", NO_SUCH_ID, route)
    return signed_in_only(re.sub(r"<(?:\w+:)?\w+>", "made-up", path))


def is_staff_route(route: str) -> bool:
    return route.startswith("staff/") or "/staff/" in route


def with_ids(name: str, *, signs_in: bool = False, **kwargs: str) -> Factory:
    """The named URL with each real id and with one that does not exist."""

    def make(world: World) -> list[Visit]:
        visits = []
        for real in (True, False):
            values = {
                key: (world.ids[source] if real else NO_SUCH_ID if "-" in world.ids[source]
                      else "999999")
                for key, source in kwargs.items()
            }  # fmt: skip
            visits.append(Visit(reverse(name, kwargs=values), signs_in=signs_in))
        return visits

    return make


def emailed(route: str, name: str) -> Factory:
    """Every emailed link for this pattern, the same link altered, and a made-up one."""

    def make(world: World) -> list[Visit]:
        links = world.links(route)
        altered = [re.sub(r"[^/]+/$", lambda m: m.group(0)[:-2] + "x/", links[0])]
        return [Visit(path) for path in [*links, *altered, reverse(name, args=[NOT_A_TOKEN])]]

    return make


def preference_token(name: str, **extra: str) -> Factory:
    """The preference-link token (it also unsubscribes and opens personal offers)."""

    def make(world: World) -> list[Visit]:
        visits = []
        for token in (world.ids["preference_token"], NOT_A_TOKEN):
            values = {"token": token, **{k: world.ids[v] for k, v in extra.items()}}
            visits.append(Visit(reverse(name, kwargs=values)))
        return visits

    return make


def provider_login(suffix: str) -> Factory:
    return lambda world: [
        Visit(f"/accounts/oidc/{provider_id}/login/{suffix}") for provider_id in ("google", "nope")
    ]


VALUES: dict[str, Factory] = {
    # web, notices, contact, newsletter
    "": page("/"),
    ".well-known/gpc.json": page("/.well-known/gpc.json"),
    "privacy/": page("/privacy/"),
    "privacy/v<int:number>/": lambda world: [Visit("/privacy/v1/"), Visit("/privacy/v999/")],
    "contact/": lambda world: [Visit("/contact/"), Visit("/contact/?kind=privacy")],
    "contact/thanks/": page("/contact/thanks/"),
    "newsletter/": page("/newsletter/"),
    "newsletter/confirm/<str:token>/": emailed(
        "newsletter/confirm/<str:token>/", "comms:newsletter_confirm"
    ),
    # links in emails that work without an account
    "preferences/<str:token>/": preference_token("consent:preferences_by_link"),
    "unsubscribe/<str:token>/": preference_token("comms:unsubscribe"),
    "offers/": page("/offers/"),
    "offers/<slug:slug>/": lambda world: [
        Visit(reverse("offers:detail", args=[world.ids["offer"]])),
        Visit("/offers/no-such-offer/"),
    ],
    "offers/for/<str:token>/": preference_token("offers:for_person"),
    "offers/for/<str:token>/location/": preference_token("offers:location"),
    "offers/for/<str:token>/offer/<slug:slug>/": preference_token(
        "offers:offer_by_link", slug="offer"
    ),
    # rights without an account
    "rights/request/": page("/rights/request/"),
    "rights/verify/": lambda world: [
        Visit("/rights/verify/"),
        Visit(f"/rights/verify/?ticket={world.ids['ticket']}"),
        Visit(f"/rights/verify/?ticket={NOT_A_TOKEN}"),
    ],
    "rights/status/": page("/rights/status/"),
    # an appeal by the refusal email's link: a receipt that is valid, made up, or none
    "rights/appeal/": lambda world: [
        Visit(f"/rights/appeal/?receipt={world.ids['receipt']}"),
        Visit(f"/rights/appeal/?receipt={NOT_A_TOKEN}"),
        Visit("/rights/appeal/"),
    ],
    "rights/submitted/": lambda world: [
        Visit(f"/rights/submitted/?receipt={world.ids['receipt']}"),
        Visit(f"/rights/submitted/?receipt={NOT_A_TOKEN}"),
        Visit("/rights/submitted/"),
    ],
    # where forms send the browser once they did their work (POST/redirect/GET)
    "newsletter/sent/": page("/newsletter/sent/"),
    "preferences/fresh-link/sent/": page("/preferences/fresh-link/sent/"),
    "preferences/<str:token>/fresh-link/": preference_token("comms:fresh_link"),
    "accounts/signup/done/": lambda world: [
        Visit("/accounts/signup/done/"),
        Visit("/accounts/signup/done/?child=1"),
    ],
    "accounts/verify/resend/sent/": page("/accounts/verify/resend/sent/"),
    "accounts/password/reset/sent/": page("/accounts/password/reset/sent/"),
    "accounts/email/sent/": page("/accounts/email/sent/"),
    "accounts/deleted/": page("/accounts/deleted/"),
    "accounts/children/deleted/": lambda world: [
        Visit("/accounts/children/deleted/"),
        Visit("/accounts/children/deleted/?withdrawn=1"),
    ],
    "accounts/parent/consent/declined/": page("/accounts/parent/consent/declined/"),
    "accounts/birth-date/done/": lambda world: [
        Visit("/accounts/birth-date/done/"),
        Visit("/accounts/birth-date/done/?erased=1"),
    ],
    # the signed-in offers pages, reached from the site's navigation
    "offers/for-you/": signed_in_only("/offers/for-you/"),
    "offers/for-you/location/": signed_in_only("/offers/for-you/location/"),
    "offers/for-you/offer/<slug:slug>/": lambda world: [
        Visit(f"/offers/for-you/offer/{world.ids['offer']}/", signs_in=True),
    ],
    "rights/download/<str:token>/": emailed("rights/download/<str:token>/", "rights:download"),
    # accounts without a session
    "accounts/signup/": page("/accounts/signup/"),
    "accounts/signup/details/": page("/accounts/signup/details/"),
    "accounts/verify/resend/": page("/accounts/verify/resend/"),
    "accounts/verify/<str:token>/": emailed(
        "accounts/verify/<str:token>/", "accounts:verify_email"
    ),
    "accounts/password/reset/": page("/accounts/password/reset/"),
    "accounts/password/reset/<str:token>/": emailed(
        "accounts/password/reset/<str:token>/", "accounts:password_reset_set"
    ),
    "accounts/email/confirm/<str:token>/": emailed(
        "accounts/email/confirm/<str:token>/", "accounts:email_change_confirm"
    ),
    "accounts/parent/consent/<str:token>/": emailed(
        "accounts/parent/consent/<str:token>/", "accounts:parental_consent"
    ),
    "accounts/login/": page("/accounts/login/"),
    "accounts/logout/": page("/accounts/logout/"),
    "accounts/inactive/": page("/accounts/inactive/"),
    "accounts/confirm-email/": page("/accounts/confirm-email/"),
    # allauth's own confirmation key: we never write allauth's EmailAddress table, so no
    # valid key can exist; a made-up one shows what a visitor gets.
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$": page(
        "/accounts/confirm-email/MQ:1tZ9Xq:not-a-real-key/"
    ),
    "accounts/password/reset/done/": page("/accounts/password/reset/done/"),
    "accounts/password/reset/key/done/": page("/accounts/password/reset/key/done/"),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": lambda world: [
        Visit(f"/accounts/password/reset/key/{world.ids['uidb36']}-{world.ids['reset_key']}/"),
        Visit(f"/accounts/password/reset/key/{world.ids['uidb36']}-{NOT_A_TOKEN}/"),
    ],
    "accounts/3rdparty/login/cancelled/": page("/accounts/3rdparty/login/cancelled/"),
    "accounts/3rdparty/login/error/": page("/accounts/3rdparty/login/error/"),
    "accounts/social/login/cancelled/": page("/accounts/social/login/cancelled/"),
    "accounts/social/login/error/": page("/accounts/social/login/error/"),
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/": provider_login(""),
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/callback/": provider_login("callback/"),
    # the JSON API, as a browser opens it
    "api/": page("/api/"),
    "api/openapi.json": page("/api/openapi.json"),
    "api/preferences": page("/api/preferences"),
    "api/rights/requests": page("/api/rights/requests"),
    "api/rights/requests/<request_id>": lambda world: [
        Visit(f"/api/rights/requests/{world.ids['request']}"),
        Visit(f"/api/rights/requests/{NO_SUCH_ID}"),
        Visit("/api/rights/requests/not-an-id"),
    ],
    "api/dpo/requests": page("/api/dpo/requests"),
    **{
        f"api/dpo/requests/<request_id>{suffix}": (
            lambda world, suffix=suffix: [
                Visit(f"/api/dpo/requests/{world.ids['request']}{suffix}"),
                Visit(f"/api/dpo/requests/not-an-id{suffix}"),
            ]
        )
        for suffix in ("", "/refuse", "/extend", "/wait", "/resume", "/retry", "/notes", "/rectify")
    },
    # pages for a signed-in person or for staff: sign in first
    "preferences/": signed_in_only("/preferences/"),
    "rights/": signed_in_only("/rights/"),
    "rights/<uuid:request_id>/": with_ids("rights:detail", signs_in=True, request_id="request"),
    "rights/<uuid:request_id>/appeal/": with_ids(
        "rights:appeal", signs_in=True, request_id="request"
    ),
    "rights/child/<uuid:child_id>/": with_ids("rights:child", signs_in=True, child_id="child"),
    "accounts/": signed_in_only("/accounts/"),
    "accounts/password/change/": signed_in_only("/accounts/password/change/"),
    "accounts/password/set/": signed_in_only("/accounts/password/set/"),
    "accounts/email/": signed_in_only("/accounts/email/"),
    "accounts/preferences/": signed_in_only("/accounts/preferences/"),
    "accounts/delete/": signed_in_only("/accounts/delete/"),
    "accounts/sessions/": signed_in_only("/accounts/sessions/"),
    "accounts/sessions/<uuid:session_id>/end/": with_ids(
        "accounts:session_end", signs_in=True, session_id="session"
    ),
    "accounts/who-accessed/": signed_in_only("/accounts/who-accessed/"),
    "accounts/children/": signed_in_only("/accounts/children/"),
    **{
        f"accounts/children/<uuid:child_id>/{suffix}": with_ids(
            name, signs_in=True, child_id="child"
        )
        for suffix, name in (
            ("", "accounts:child_detail"),
            ("correct/", "accounts:child_correct"),
            ("download/", "accounts:child_download"),
            ("delete/", "accounts:child_delete"),
            ("withdraw/", "accounts:child_withdraw"),
            ("who-accessed/", "backoffice:child_who_accessed"),
        )
    },
    "accounts/birth-date/": signed_in_only("/accounts/birth-date/"),
    "accounts/staff/underage/": signed_in_only("/accounts/staff/underage/"),
    "accounts/reauthenticate/": signed_in_only("/accounts/reauthenticate/"),
    "accounts/reauthenticate/code/": signed_in_only("/accounts/reauthenticate/code/"),
    "accounts/reauthenticate/code/confirm/": signed_in_only(
        "/accounts/reauthenticate/code/confirm/"
    ),
    "accounts/2fa/": signed_in_only("/accounts/2fa/"),
    "accounts/2fa/reauthenticate/": signed_in_only("/accounts/2fa/reauthenticate/"),
    "accounts/2fa/totp/activate/": signed_in_only("/accounts/2fa/totp/activate/"),
    "accounts/2fa/totp/deactivate/": signed_in_only("/accounts/2fa/totp/deactivate/"),
    "accounts/2fa/recovery-codes/": signed_in_only("/accounts/2fa/recovery-codes/"),
    "accounts/2fa/recovery-codes/generate/": signed_in_only(
        "/accounts/2fa/recovery-codes/generate/"
    ),
    "accounts/2fa/recovery-codes/download/": signed_in_only(
        "/accounts/2fa/recovery-codes/download/"
    ),
    "accounts/2fa/webauthn/": signed_in_only("/accounts/2fa/webauthn/"),
    "accounts/2fa/webauthn/add/": signed_in_only("/accounts/2fa/webauthn/add/"),
    "accounts/2fa/webauthn/reauthenticate/": signed_in_only(
        "/accounts/2fa/webauthn/reauthenticate/"
    ),
    "accounts/2fa/webauthn/keys/<int:pk>/remove/": with_ids(
        "mfa_remove_webauthn", signs_in=True, pk="authenticator"
    ),
    "accounts/2fa/webauthn/keys/<int:pk>/edit/": with_ids(
        "mfa_edit_webauthn", signs_in=True, pk="authenticator"
    ),
    "accounts/3rdparty/": signed_in_only("/accounts/3rdparty/"),
    "accounts/social/connections/": signed_in_only("/accounts/social/connections/"),
    "accounts/social/signup/": signed_in_only("/accounts/social/signup/"),
    "accounts/3rdparty/signup/": signed_in_only("/accounts/3rdparty/signup/"),
    "accounts/2fa/webauthn/login/": signed_in_only("/accounts/2fa/webauthn/login/"),
    "accounts/2fa/authenticate/": signed_in_only("/accounts/2fa/authenticate/"),
    "accounts/login/code/confirm/": signed_in_only("/accounts/login/code/confirm/"),
    "staff/": signed_in_only("/staff/"),
    "staff/people/": signed_in_only("/staff/people/"),
    "staff/people/invite/": signed_in_only("/staff/people/invite/"),
    "staff/people/invitations/<uuid:invite_id>/cancel/": signed_in_only(
        f"/staff/people/invitations/{NO_SUCH_ID}/cancel/"
    ),
    "staff/people/<uuid:user_id>/": signed_in_only(f"/staff/people/{NO_SUCH_ID}/"),
    "staff/people/<uuid:user_id>/deactivate/": signed_in_only(
        f"/staff/people/{NO_SUCH_ID}/deactivate/"
    ),
    # an invitation to join the staff, as emailed
    "join-staff/<str:token>/": emailed("join-staff/<str:token>/", "backoffice:invite_accept"),
    "staff/analytics/": signed_in_only("/staff/analytics/"),
    "staff/security/": signed_in_only("/staff/security/"),
    "staff/newsletters/": signed_in_only("/staff/newsletters/"),
    "staff/newsletters/<uuid:newsletter_id>/send/": with_ids(
        "comms:staff_newsletter_send", signs_in=True, newsletter_id="newsletter"
    ),
    "staff/newsletters/<uuid:newsletter_id>/sent/": with_ids(
        "comms:staff_newsletter_sent", signs_in=True, newsletter_id="newsletter"
    ),
    "staff/rights/": signed_in_only("/staff/rights/"),
    "staff/rights/<uuid:request_id>/": with_ids(
        "rights:dpo_request", signs_in=True, request_id="request"
    ),
    **{
        f"staff/rights/<uuid:request_id>/{segment}/": with_ids(
            f"rights:dpo_{action}", signs_in=True, request_id="request"
        )
        for action, segment in (
            ("refuse", "refuse"),
            ("extend", "extend"),
            ("wait", "wait"),
            ("resume", "resume"),
            ("retry", "retry"),
            ("note", "notes"),
            ("rectify", "rectify"),
            ("hold", "holds"),
            ("lift_notice", "restriction/notify"),
            ("lift", "restriction/lift"),
        )
    },
    # support: a message opened from its emailed link, without an account
    "support/link/<str:token>/": emailed("support/link/<str:token>/", "support:ticket_link"),
    "support/link-sent/": lambda world: [
        Visit("/support/link-sent/"),
        Visit("/support/link-sent/?recent=1"),
    ],
    # only POSTed to, from a message's page (a GET is refused)
    "support/visit/reply/": page("/support/visit/reply/"),
    "support/visit/rate/": page("/support/visit/rate/"),
    # the signed-in person's messages
    "support/": signed_in_only("/support/"),
    **{
        f"support/tickets/<uuid:ticket_id>/{suffix}": with_ids(
            name, signs_in=True, ticket_id="support_ticket"
        )
        for suffix, name in (
            ("", "support:ticket"),
            ("reply/", "support:ticket_reply"),
            ("rate/", "support:ticket_rate"),
        )
    },
    "staff/rights/<uuid:request_id>/holds/<uuid:hold_id>/lift/": with_ids(
        "rights:dpo_hold_lift", signs_in=True, request_id="request", hold_id="hold"
    ),
}

# Valid input for the forms where it is cheap, by the name of the URL the form sends to.
VALID: dict[str, dict[str, str]] = {
    "contact:inquiry": {
        "kind": "general",
        "name": "Mona Browser",
        "email": "mona.browser@example.org",
        "subject_line": "Opening hours",
        "message": "Are you open on public holidays? I would like to visit you.",
    },
    "comms:newsletter_signup": {"email": "mona.browser@example.org", "agree": "on"},
    "accounts:signup": {"birth_date": "1990-04-05", "country": "SE"},
    "accounts:signup_details": {
        "username": "mona",
        "email": "mona.account@example.org",
        "password": "seven tall giraffes read poetry at noon",
    },
    "accounts:password_reset": {"email": "rita.reset@example.org"},
    "accounts:verify_email_resend": {"email": "una.unconfirmed@example.org"},
    "rights:request": {"email": "rita.reset@example.org", "kind": "access", "confirm_export": "on"},
    "accounts:password_reset_set": {"password": "nine quiet owls count the stars"},
}


# -- the browser ---------------------------------------------------------------------------

# A form's fields, and how to send it: as rendered, with invalid input, with valid input.
FORMS = """() => Array.from(document.forms).map((form, index) => ({
    index,
    method: (form.getAttribute("method") || "get").toLowerCase(),
    // the attribute: a field named "action" hides the property
    action: new URL(form.getAttribute("action") || "", document.baseURI).href,
    fields: Array.from(form.elements).filter((e) => e.name).map((e) => e.name).sort(),
}))"""
SUBMIT = """([index, variant, valid]) => {
    const form = document.forms[index];
    form.noValidate = true;  // the server must cope with what the browser would refuse
    for (const element of Array.from(form.elements)) {
        if (!element.name) continue;
        const type = (element.type || "").toLowerCase();
        if (["submit", "button", "reset", "image", "file"].includes(type)) continue;
        if (variant === "valid") {
            if (!(element.name in valid)) continue;
            if (type === "radio") element.checked = element.value === valid[element.name];
            else if (type === "checkbox") element.checked = true;
            else element.value = valid[element.name];
        } else if (variant === "invalid") {
            if (type === "checkbox" || type === "radio") {
                element.value = "not-a-choice";
                element.checked = true;
            } else if (element.tagName === "SELECT") {
                element.add(new Option("not a choice", "not-a-choice"));
                element.value = "not-a-choice";
            } else {
                if (element.tagName === "INPUT") element.type = "text";
                element.value = "<b>not valid</b> \u202e" + "9".repeat(300);
            }
        }
    }
    const button = form.querySelector(
        "button:not([type=button]):not([type=reset]), input[type=submit]"
    );
    form.requestSubmit(button || undefined);
}"""


# This tab's sessionStorage keys; [] where the document has no storage of its own.
SESSION_STORAGE_PROBE = """() => {
    try {
        return Object.keys(window.sessionStorage);
    } catch (error) {
        return [];
    }
}"""


@dataclass
class Problem:
    step: str
    what: str


@dataclass
class Browser:
    """One page of one browser context, and what it saw."""

    page: object
    context: object
    base: str
    probe: object
    problems: list[Problem] = field(default_factory=list)
    steps: int = 0
    forms_sent: set[tuple] = field(default_factory=set)

    def check(self, step: str, response) -> None:
        """After every step: no cookie, no storage, no server error."""
        self.steps += 1
        if cookies := self.context.cookies():
            self.problems.append(Problem(step, f"cookies {[c['name'] for c in cookies]}"))
            self.context.clear_cookies()
        # The origin's storage, from a page of ours that stays open in the same browser
        # (the page just shown may be one Chromium gives no storage at all: its own error
        # page for a bare 405, a JSON document); and this tab's sessionStorage.
        if (storage := evaluate(self.probe, STORAGE_PROBE)) != NO_STORAGE:
            self.problems.append(Problem(step, f"storage {storage}"))
        if session := evaluate(self.page, SESSION_STORAGE_PROBE):
            self.problems.append(Problem(step, f"sessionStorage {session}"))
        if response is not None and response.status >= 500:
            self.problems.append(Problem(step, f"status {response.status}"))

    def navigate(self, act: Callable[[], object]):
        """Run a navigation (goto, or a form sent) and return the final response of the
        main frame; the page stays where it was when the answer was a download."""
        from playwright.sync_api import Error

        answers = []

        def seen(response) -> None:
            request = response.request
            if request.is_navigation_request() and request.frame == self.page.main_frame:
                answers.append(response)

        self.page.on("response", seen)
        try:
            with self.page.expect_navigation() as navigation:
                act()
            return navigation.value
        except Error as error:
            # A download, or an answer without a body that Chromium will not show.
            passed = ("ERR_ABORTED", "Download is starting", "ERR_HTTP_RESPONSE_CODE_FAILURE")
            if not any(reason in str(error) for reason in passed):
                raise
            return answers[-1] if answers else None
        finally:
            self.page.remove_listener("response", seen)

    def visit(self, visit: Visit) -> None:
        step = f"GET {visit.path}"
        response = self.navigate(lambda: self.page.goto(self.base + visit.path))
        self.check(step, response)
        if visit.signs_in:
            self.expect_sign_in(step, response)
            return
        self.send_forms([visit.path], step)

    def expect_sign_in(self, step: str, response) -> None:
        """The answer was a redirect, and the redirects ended on the sign-in page."""
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        answer = first.response()
        status = answer.status if answer else None
        if status not in (301, 302, 303) or urlsplit(self.page.url).path != SIGN_IN:
            self.problems.append(Problem(step, f"not sent to sign in ({status} {self.page.url})"))

    def replay(self, chain: list) -> None:
        """Open a page again: GET the path, then send the forms that led on from it."""
        path, *submissions = chain
        self.page.goto(self.base + path)
        for form, variant in submissions:
            self.submit(form, variant)

    def submit(self, form: dict, variant: str):
        """Send the form again if the page still shows it; None if it does not (a link
        that works once was used by the way before), else (response,)."""
        forms = evaluate(self.page, FORMS)
        if form["index"] >= len(forms) or forms[form["index"]]["fields"] != form["fields"]:
            return None
        valid = VALID.get(route_name(form["action"]), {})
        return (self.navigate(lambda: self.page.evaluate(SUBMIT, [form["index"], variant, valid])),)

    def send_forms(self, chain: list, step: str, depth: int = 0) -> None:
        """Send each form of the page that `chain` opens (and shows now), each way; then
        the forms of the pages that valid input leads to, two steps deep at most."""
        for form in evaluate(self.page, FORMS):
            target = route_name(form["action"])
            if target in LEAVES_FOR_SIGN_IN and form["method"] == "post":
                continue
            signature = (chain[0], target, form["method"], tuple(form["fields"]))
            if signature in self.forms_sent:
                continue
            self.forms_sent.add(signature)
            # Invalid input first: it must leave a link that works once still unused.
            variants = ["invalid", "as rendered"] + (["valid"] if target in VALID else [])
            for variant in variants:
                sent = f"{step} -> {form['method'].upper()} {target} ({variant})"
                if (outcome := self.submit(form, variant)) is None:
                    break
                [response] = outcome
                self.check(sent, response)
                if variant == "valid" and response is not None and depth < 2:
                    self.send_forms([*chain, (form, variant)], sent, depth + 1)
                self.replay(chain)


def evaluate(page, script: str, arg=None):
    """`page.evaluate`, again once the page has loaded if it was navigating meanwhile
    (a page that moves on by itself, as the offers page does once it stored a position)."""
    from playwright.sync_api import Error

    while True:
        try:
            return page.evaluate(script, arg)
        except Error as error:
            if "Execution context was destroyed" not in str(error):
                raise
            page.wait_for_load_state()


def route_name(url: str) -> str:
    """The URL name (or, for an unnamed pattern, the route) a form sends to."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:  # not one of our URLs: named by its address
        return url
    return match.view_name or match.route


# The one form that leaves for another site: it starts signing in with Google or LinkedIn.
LEAVES_FOR_SIGN_IN = {"openid_connect_login"}


# transaction=True: the live server answers from another thread, so data must be committed.
@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
@pytest.mark.usefixtures("provider")
def test_it_leaves_no_trace_in_the_browser_on_any_url_an_anonymous_visitor_can_reach(
    live_server, chromium_path, settings, monkeypatch
):
    from playwright.sync_api import sync_playwright

    from qualipact.accounts.models import User
    from qualipact.comms import tasks as comms_tasks
    from qualipact.contact.models import Inquiry
    from qualipact.privacy.vault import blind_index
    from qualipact.rights import tasks as rights_tasks

    patterns = url_patterns()
    factories = {route: staff_page(route) for route in patterns if is_staff_route(route)}
    factories.update(VALUES)
    missing = sorted(set(patterns) - set(factories))
    assert missing == [], f"URL patterns without a value factory in VALUES: {missing}"
    assert sorted(set(VALUES) - set(patterns)) == [], "factories for patterns that are gone"

    settings.SITE_URL = live_server.url
    for limit in (
        "CONTACT_RATE_LIMIT",
        "ACCOUNT_MAIL_RATE_LIMIT",
        "RIGHTS_REQUEST_RATE_LIMIT",
        "RIGHTS_VERIFY_RATE_LIMIT",
    ):
        setattr(settings, limit, 10_000)  # every form is sent many times from one address
    # Emails stay queued (their links are read from the outbox); nothing is fulfilled
    # behind the test's back.
    monkeypatch.setattr(comms_tasks.send_email, "delay", lambda *args: None)
    monkeypatch.setattr(rights_tasks.request_fulfil, "delay", lambda *args: None)
    world = world_build(live_server.url)
    visits = {route: factory(world) for route, factory in factories.items()}
    origin = urlsplit(live_server.url)
    requests: list[str] = []

    with sync_playwright() as pw:
        browser = browser_launch(pw, chromium_path)
        try:
            context = browser_context(browser, accept_downloads=True)
            context.on("request", lambda request: requests.append(request.url))
            probe = context.new_page()
            probe.goto(live_server.url + "/")
            walker = Browser(context.new_page(), context, live_server.url, probe)
            for route in sorted(visits):
                for visit in visits[route]:
                    walker.visit(visit)
            context.close()
        finally:
            browser.close()

    assert walker.problems == []
    # The walk did walk: valid input went through, to the database (a sign-up's account
    # is created by the background work the form hands it to).
    run_deferred()
    assert User.objects.filter(username="mona").exists()  # sign-up, both steps
    assert Inquiry.objects.filter(email_index=blind_index("email", "mona.browser@example.org"))
    assert walker.steps > sum(map(len, visits.values())) + 3 * len(VALID)
    foreign = [
        url
        for url in requests
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert requests and foreign == []

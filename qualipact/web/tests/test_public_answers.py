"""What public pages and forms answer: never anything internal, and never whether an
address is known or a child's.

Every public form is driven with good, bad and hostile input (a child's address, a
known one, a new one, tampered links, crafted choices) and every answer's visible text
is scanned for model labels, field names, purpose codes, UUIDs and Python reprs. The
same form with a known, a new and a child's address must answer byte for byte the same;
the explanation goes by email to the address.
"""

import html
import json
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, PERSONAS, run_deferred, submit_persona
from qualipact.accounts.services import account_create
from qualipact.comms.models import NewsletterSignup, OutboundEmail
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import preference_link_for_mailing, preference_link_issue
from qualipact.offers.services import offer_create
from qualipact.privacy.audit import Actor
from qualipact.privacy.purposes import PURPOSES
from qualipact.privacy.registry import registry
from qualipact.privacy.services import subject_restrict

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

CHILD_EMAIL = "kid.tester@example.org"
NEW_EMAIL = "someone.new@example.org"
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
REPRS = re.compile(
    r"<[\w.]+ object at 0x|Traceback|\b\w+(Error|Refused|Exception)\b|\{'|\['|\bNone\b"
)


def internal_names() -> set[str]:
    """Names a person must never read: model labels, declared field names with an
    underscore (`email_index`), purpose codes (`partner_sharing`)."""
    names = set()
    for model in apps.get_models():
        names.add(model._meta.label)
        names.add(model._meta.label_lower)
    for declaration in registry.subject_declarations():
        names.update(name for name in declaration.fields if "_" in name)
    names.update(code for code in PURPOSES if "_" in code)
    return names


def visible_text(response) -> str:
    """What a person reads: the page's text without tags and attribute values, or the
    messages of a JSON answer."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(response.content)
        return json.dumps(body.get("error", {}).get("message", ""))
    text = response.content.decode()
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]*>", " ", text)
    return html.unescape(text)


def leaks(response) -> list[str]:
    text = visible_text(response)
    found = [name for name in internal_names() if re.search(rf"\b{re.escape(name)}\b", text)]
    found += UUID.findall(text)
    found += [m.group(0) for m in REPRS.finditer(text)]
    return found


@pytest.fixture
def people():
    """A known adult (wrote to us), a child's account, and the links they hold."""
    alice = submit_persona("alice").subject
    child = account_create(
        username="kid",
        email=CHILD_EMAIL,
        password=PASSWORD,
        email_verified=True,
        child_until=timezone.localdate() + timedelta(days=300),
    )
    return {
        "alice": alice,
        "child": child,
        "bulk": preference_link_for_mailing(subject=alice, email=PERSONAS["alice"]["email"]),
        "fresh": preference_link_issue(subject=alice, email=PERSONAS["alice"]["email"]),
    }


def newsletter_post(client, email, **extra):
    wording = consent_wording_current("marketing")
    data = {"email": email, "wording": wording.sha256, "agree": "on", **extra}
    # The answer a person sees: the page the form redirects to (POST/redirect/GET).
    return client.post("/newsletter/", data, follow=True)


def test_it_answers_the_newsletter_form_the_same_for_every_address(people):
    restricted = submit_persona("bob").subject
    subject_restrict(subject=restricted, actor=Actor.system("test"), reason="contested")
    answers = {
        who: newsletter_post(Client(), email)
        for who, email in (
            ("new", NEW_EMAIL),
            ("known", PERSONAS["alice"]["email"]),
            ("child", CHILD_EMAIL),
            ("restricted", PERSONAS["bob"]["email"]),
        )
    }
    assert {who: r.status_code for who, r in answers.items()} == dict.fromkeys(answers, 200)
    assert len({r.content for r in answers.values()}) == 1
    assert not [leak for r in answers.values() for leak in leaks(r)]
    run_deferred()  # the sign-up itself runs in the background (privacy.deferred)
    # Nothing is kept for the child; the explanation goes to the child's address only.
    assert not NewsletterSignup.objects.filter(subject=people["child"].subject).exists()
    [notice] = OutboundEmail.objects.filter(subject=people["child"].subject)
    assert (notice.to, notice.purpose) == (CHILD_EMAIL, "service_delivery")
    assert "child" in notice.body
    assert not NewsletterSignup.objects.filter(subject=restricted).exists()
    [notice] = OutboundEmail.objects.filter(subject=restricted)
    assert "restrict" in notice.body


def bad_inputs(people, client, staffless):
    """Yield every public answer to bad or hostile input."""
    wording = consent_wording_current("marketing").sha256
    bulk, fresh = people["bulk"], people["fresh"]
    yield newsletter_post(client, NEW_EMAIL, wording="0" * 64)
    yield newsletter_post(client, "not an address")
    yield client.post("/newsletter/", {"email": NEW_EMAIL})
    for path in ("/newsletter/confirm/forged/", "/unsubscribe/forged/", "/preferences/forged/"):
        yield client.get(path)
        yield client.post(path)
    yield client.post("/preferences/forged/fresh-link/")
    for token in (bulk, fresh):
        page = f"/preferences/{token}/"
        yield client.get(page)
        for data in (
            {"purpose": "customer_support", "action": "grant"},
            {"purpose": "partner_sharing", "action": "grant", "wording": wording},
            {"purpose": "no_such_purpose", "action": "withdraw"},
            {"purpose": "marketing", "action": "sell<script>"},
            {"purpose": "marketing", "action": "grant", "wording": "zzz"},
            {"purpose": "security", "action": "withdraw"},
            {"purpose": "marketing", "action": "object"},
        ):
            yield client.post(page, data)
        offers = f"/offers/for/{token}/"
        yield client.get(offers)
        for data in (
            {"action": "topics", "topics": ["no-such-topic"]},
            {"action": "location_ip"},
            {"action": "grant", "purpose": "marketing", "wording": wording},
            {"action": "grant", "purpose": "personalised_offers"},
            {"action": "explode"},
        ):
            yield client.post(offers, data, REMOTE_ADDR="192.168.1.2")
        for position in ({"latitude": "x", "longitude": "1"}, {"latitude": "91", "longitude": "0"}):
            yield client.post(offers + "location/", position)
        yield client.get(offers + "offer/no-such-offer/")
    yield client.get("/offers/no-such-offer/")
    yield client.get("/offers/for/forged/")
    yield client.post("/offers/for/forged/location/", {"latitude": "1", "longitude": "1"})
    # Signed in: the preference centre's and the offers page's error messages.
    for user in (people["child"], staffless):
        signed_in = Client()
        signed_in.force_login(user)
        for data in (
            {"purpose": "partner_sharing", "action": "grant", "wording": wording},
            {"purpose": "customer_support", "action": "object"},
            {"purpose": "x", "action": "y"},
        ):
            yield signed_in.post("/preferences/", data)
        yield signed_in.get("/offers/for-you/")
        grant = {"action": "grant", "purpose": "location_features"}
        yield signed_in.post("/offers/for-you/", grant)
        yield signed_in.post("/offers/for-you/", {"action": "topics", "topics": ["zz"]})
        yield signed_in.post("/offers/for-you/location/", {"latitude": "a", "longitude": "b"})
    # Other apps' public links, tampered.
    for path in (
        "/accounts/verify/forged/",
        "/accounts/password/reset/forged/",
        "/accounts/email/confirm/forged/",
        "/accounts/parent/consent/forged/",
        "/rights/download/forged/",
    ):
        yield client.get(path)
        yield client.post(path)
    yield client.post("/rights/status/", {"receipt": "forged"})
    yield client.post("/rights/verify/", {"ticket": "forged", "code": "123456"})
    # The contact form and the rights request, for a child's and a new address.
    for email in (CHILD_EMAIL, NEW_EMAIL):
        yield client.post(
            "/contact/",
            {
                "kind": "general",
                "name": "Kim",
                "email": email,
                "subject_line": "Hello",
                "message": "A question.",
            },
            follow=True,
        )
        yield client.post("/rights/request/", {"email": email, "kind": "access"})


def test_it_shows_nothing_internal_in_any_public_answer(people, alice_account):
    offer_create(slug="guide", title="A guide", kind="article", summary="About it.")
    found = {}
    for response in bad_inputs(people, Client(), alice_account):
        assert response.status_code < 500, response.content[:500]
        if problems := leaks(response):
            found[response.wsgi_request.path] = problems
    assert found == {}


def test_it_finds_what_the_old_pages_showed():
    """The scan itself: the newsletter page's old 400 answer for a child would be caught."""

    class Old:
        content = (
            b"<ul class=errorlist><li>comms.NewsletterSignup: email, email_index may not be "
            b"stored for a child (subject 0b7c1c52-2a4e-4c47-9d5e-0f7f3d6e1a2b)</li></ul>"
        )

        def get(self, name, default=""):
            return "text/html"

    assert {"comms.NewsletterSignup", "email_index"} <= set(leaks(Old()))
    assert any(UUID.fullmatch(leak) for leak in leaks(Old()))

"""Every form that creates something answers with a redirect, and the same submission
sent again within the window (a reload, Back and Submit, a double-click) is carried out
once (hardening item 11). The pages are enumerated from the URL resolver: a new page must
be classified here, so it cannot forget the rule."""

import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import (
    PERSONAS,
    account_for,
    reauthenticate,
    role_give,
    run_deferred,
    submit_persona,
)
from qualipact.comms.models import NewsletterSignup, OutboundEmail
from qualipact.consent.selectors import consent_wording_current
from qualipact.contact.models import Inquiry
from qualipact.rights.models import DataRequest, RequestNote
from qualipact.rights.tests.test_dpo import dpo_grant, submit
from qualipact.web.roles import Role

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

# Pages whose POST does not create anything new, and why.
NOT_CREATING = {
    "consent:preferences": "a choice: switching it back and forth on purpose is recorded",
    "consent:preferences_by_link": "a choice, as on the signed-in page",
    "offers:for_you": "interests and consents: choices, redirected after the POST",
    "offers:for_person": "the same page opened from an email link",
    "offers:for_you_location": "a position replacing the last one (JSON)",
    "offers:location": "the same, from an email link (JSON)",
    "comms:newsletter_confirm": "confirming twice changes nothing",
    "comms:unsubscribe": "RFC 8058 one-click: withdrawing twice changes nothing",
    "rights:verify": "checks a code; the request was created by the form before it",
    "rights:status": "shows where a request stands",
    "rights:download": "hands over a file, once",
    "accounts:verify_email": "confirming an address twice changes nothing",
    "accounts:password_reset_set": "the link works once: a second try is refused",
    "accounts:password_change": "setting a password: the second sets the same",
    "accounts:email_change_confirm": "the link works once",
    "accounts:preferences": "a choice, redirected after the POST",
    "accounts:delete": "deleting twice: the second finds nothing, redirected after the POST",
    "accounts:sessions": "signing out other sessions twice changes nothing",
    "accounts:session_end": "ending a session twice: the second is not found",
    "accounts:child_delete": "the second finds no child",
    "accounts:child_withdraw": "the second finds no child",
    "accounts:birth_date": "a correction, redirected after the POST",
    "accounts:signup": "the age step creates nothing (its answer is signed, not stored)",
    "accounts:password_reset": "asking again sends the link again, on purpose (rate-limited)",
    "accounts:verify_email_resend": "asking again sends the link again (rate-limited)",
    "backoffice:invite_accept": "the link works once: a second try is refused",
    "backoffice:staff_member": "a choice of roles: setting the same again changes nothing",
    "backoffice:staff_deactivate": "ending access twice: the second finds no staff member",
    "backoffice:staff_invite_cancel": "the second finds no invitation",
    "rights:dpo_evidence": "hands over a file (each download audited), creates nothing",
    "support:ticket_link": "asking again emails a fresh link, on purpose (one per 10 minutes)",
    "support:visit_reply": "a visit has no address to redirect to (its token is only in forms): "
    "the page is shown again, and a reloaded reply is kept once (the form's key)",
    "support:visit_rate": "a rating replaces the earlier one: rating twice changes nothing",
}


def _patterns(patterns, namespace="", prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern, prefix


def _ours() -> dict[str, tuple[URLPattern, str]]:
    return {
        name: (pattern, prefix)
        for name, pattern, prefix in _patterns(get_resolver().url_patterns)
        if getattr(pattern.callback, "__module__", "").startswith("qualipact")
    }


def _url(pattern: URLPattern, prefix: str) -> str:
    """The pattern's path with a made-up value for each parameter."""
    values = {"uuid": str(uuid.uuid4()), "int": "1", "slug": "made-up", "str": "made-up"}
    route = prefix + str(pattern.pattern)
    for name, converter in pattern.pattern.converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        route = re.sub(rf"<(\w+:)?{name}>", values.get(kind, "made-up"), route)
    return "/" + route


def test_every_page_that_takes_a_post_is_classified():
    ours = _ours()
    once = {name for name, (p, _) in ours.items() if getattr(p.callback, "submitted_once", None)}
    assert not (once & set(NOT_CREATING)), "a page cannot be both"
    # The rest must refuse a POST: asked as staff holding every role, so sign-in and the
    # role checks pass.
    staff = account_for("alice", is_staff=True)
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(staff, generate_totp_secret())
    for role in Role:
        role_give(staff, role)
    client = Client()
    client.force_login(staff)
    unclassified = []
    for name, (pattern, prefix) in sorted(ours.items()):
        if name in once or name in NOT_CREATING:
            continue
        response = client.post(_url(pattern, prefix), {})
        if response.status_code != 405:
            unclassified.append((name, response.status_code))
    assert unclassified == [], "classify: creating (submitted_once) or in NOT_CREATING"


# -- behaviour: twice the same, carried out once -----------------------------------------------


def _signed_in(name="alice") -> Client:
    account_for(name)
    client = Client()
    client.post("/accounts/login/", {"login": name, "password": "correct horse battery staple 42"})
    return client


def contact():
    data = {
        "kind": "general",
        "name": "Ida Lund",
        "email": "ida.lund@example.org",
        "phone": "",
        "postal_address": "",
        "subject_line": "A question",
        "message": "Do you ship to Norway?",
    }
    return Client(), "/contact/", data, lambda: (run_deferred(), Inquiry.objects.count())[1]


def newsletter():
    wording = consent_wording_current("marketing").sha256
    data = {"email": "ida.lund@example.org", "wording": wording, "agree": "on"}
    count = lambda: (run_deferred(), NewsletterSignup.objects.count())[1]  # noqa: E731
    return Client(), "/newsletter/", data, count


def password_reset():
    alice = account_for("alice")
    data = {"email": PERSONAS["alice"]["email"]}

    def count():
        run_deferred()
        return OutboundEmail.objects.filter(subject=alice.subject).count()

    return Client(), "/accounts/password/reset/", data, count


def rights_request():
    client = _signed_in()
    return client, "/rights/", {"kind": "restriction"}, DataRequest.objects.count


def rights_request_by_email():
    submit_persona("alice")
    data = {"email": PERSONAS["alice"]["email"], "kind": "restriction"}
    count = lambda: (run_deferred(), DataRequest.objects.count())[1]  # noqa: E731
    return Client(), "/rights/request/", data, count


def dpo_note(staff_account):
    alice = account_for("alice")
    request = submit(alice.subject, "restriction")
    client = Client()
    client.force_login(dpo_grant(staff_account))
    return (
        client,
        f"/staff/rights/{request.pk}/notes/",
        {"text": "Called her back"},
        (RequestNote.objects.count),
    )


CASES = {
    "contact:inquiry": contact,
    "comms:newsletter_signup": newsletter,
    "rights:mine": rights_request,
    "rights:request": rights_request_by_email,
    "rights:dpo_note": dpo_note,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_submission_twice_is_carried_out_once_and_answered_with_a_redirect(
    name, staff_account
):
    factory = CASES[name]
    client, url, data, count = factory(staff_account) if name == "rights:dpo_note" else factory()
    first = client.post(url, data)
    assert first.status_code in (302, 303), first.status_code
    second = client.post(url, data)  # a reload, or Back and Submit
    assert second.status_code == 303  # "see other": the first one's answer
    assert second["Location"] == first["Location"]
    assert count() == 1
    assert client.get(first["Location"]).status_code == 200  # the page the person sees


def test_asking_again_for_a_link_sends_it_again():
    """A person who did not get the reset or confirmation email asks again and gets one."""
    from qualipact.accounts.services import account_create

    client, url, data, count = password_reset()
    for expected in (1, 2):
        response = client.post(url, data)
        assert response.status_code in (302, 303)
        assert count() == expected
    una = account_create(username="una", email="una@example.org", password="x" * 20)
    run_deferred()
    before = OutboundEmail.objects.filter(subject=una.subject).count()
    for _ in range(2):
        response = client.post("/accounts/verify/resend/", {"email": "una@example.org"})
        assert response.status_code in (302, 303)
    run_deferred()
    assert OutboundEmail.objects.filter(subject=una.subject).count() == before + 2


def test_a_different_submission_or_another_person_is_carried_out(staff_account):
    client = _signed_in("alice")
    client.post("/rights/", {"kind": "restriction"})
    client.post("/rights/", {"kind": "objection", "purpose": "marketing"})
    other = _signed_in("bob")
    other.post("/rights/", {"kind": "restriction"})
    assert DataRequest.objects.count() == 3


def test_a_form_with_errors_is_not_remembered_so_the_corrected_one_goes_through():
    client = _signed_in("alice")
    reauthenticate(client)
    refused = client.post("/rights/", {"kind": "erasure"})  # the box is not ticked
    assert refused.status_code == 400
    again = client.post("/rights/", {"kind": "erasure"})
    assert again.status_code == 400  # checked again, not answered from memory
    assert not DataRequest.objects.exists()


def test_the_window_ends(settings):
    client = _signed_in("alice")
    client.post("/rights/", {"kind": "restriction"})
    cache.clear()  # the window is over (the cache entry expired)
    client.post("/rights/", {"kind": "restriction"})
    assert DataRequest.objects.count() == 2

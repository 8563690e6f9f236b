"""No endpoint that takes an email address tells, by its answer or by its timing, whether
the address is known to us.

For each endpoint, the same request is made with an address that has an account (or is
otherwise known) and with one that is not. The answers must be the same page, and the
medians of 20 interleaved tries each must differ by less than 5 ms plus 20%. The machine
may be busy (two cores shared with other work): the tries alternate, the first few are
thrown away, and the whole measurement is repeated a few times before the test fails.
Celery's broker is replaced by a no-op, for both sides alike: what a request hands to the
background is not part of its answer time.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from celery.app.task import Task
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from qualipact.accounts.models import User
from qualipact.accounts.services import account_create, children

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "keys"])

TRIES = 20
WARM_UP = 5
ATTEMPTS = 5
ABSOLUTE = 0.005  # 5 ms
RELATIVE = 0.20

_numbers = itertools.count(1)


def fresh(prefix: str = "nobody") -> str:
    """A new address, never seen before in this test run."""
    return f"{prefix}.{next(_numbers)}.{time.monotonic_ns()}@unknown.example.net"


def fresh_username() -> str:
    return f"u{next(_numbers)}x{time.monotonic_ns() % 10**9}"


def fresh_client() -> Client:
    """Each try from its own client address: per-address limits must not differ by side."""
    n = next(_numbers)
    return Client(REMOTE_ADDR=f"198.51.100.{n % 250 + 1}", HTTP_USER_AGENT="timing test")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, settings):
    """Nothing is published to a broker; limits high enough for the repeated tries."""
    monkeypatch.setattr(Task, "apply_async", lambda self, *args, **kwargs: None)
    settings.ACCOUNT_MAIL_RATE_LIMIT = 10_000
    settings.CONTACT_RATE_LIMIT = 10_000
    settings.RIGHTS_REQUEST_RATE_LIMIT = 10_000
    settings.AXES_FAILURE_LIMIT = 10_000


def person(username: str, **extra) -> User:
    return account_create(
        username=username,
        email=f"{username}@known.example.org",
        password=PASSWORD,
        email_verified=extra.pop("email_verified", True),
        **extra,
    )


# Per-response values that differ between any two answers: CSP nonces, signed tokens
# carried in hidden fields (an age answer, a code ticket), the time of day.
_VOLATILE = [
    re.compile(r'nonce="[^"]*"'),
    re.compile(r'(name="(?:age|ticket|receipt)"[^>]*value=")[^"]*(")'),
]


def submit(client: Client, path: str, data: dict) -> object:
    """POST a form as a first submission: each try carries a field of its own, so the
    recognition of a repeated identical submission (web.submissions) never answers from
    memory, which would time something else than the form's work."""
    response = client.post(path, {**data, "try": uuid.uuid4().hex})
    assert response.status_code in (200, 302, 303), response.status_code
    return response


_LOCATION_TOKENS = re.compile(r"((?:ticket|receipt)=)[^&]*")


def normalised(response, address: str) -> tuple[int, str]:
    """The answer, without what differs between any two answers (and the address typed,
    which a form shows back as it was typed). A redirect (POST/redirect/GET) is compared
    by where it sends the browser, signed tokens left out."""
    if response.status_code in (302, 303):
        return response.status_code, _LOCATION_TOKENS.sub(r"\1", response["Location"])
    text = response.content.decode().replace(address, "[address]")
    for pattern in _VOLATILE:
        text = pattern.sub(lambda m: m.group(1) + m.group(2) if m.lastindex else "", text)
    return response.status_code, text


@dataclass
class Measured:
    known: float
    unknown: float

    @property
    def close(self) -> bool:
        return abs(self.known - self.unknown) < ABSOLUTE + RELATIVE * max(self.known, self.unknown)

    def __str__(self) -> str:
        return f"known {self.known * 1000:.1f} ms, unknown {self.unknown * 1000:.1f} ms"


def measure(known: Callable[[], object], unknown: Callable[[], object]) -> Measured:
    for _ in range(WARM_UP):
        known()
        unknown()
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(TRIES):
        pair = [("known", known), ("unknown", unknown)]
        for side, call in pair if n % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            call()
            times[side].append(time.perf_counter() - started)
    return Measured(statistics.median(times["known"]), statistics.median(times["unknown"]))


def assert_same_answer_and_time(request: Callable[[str], object], known: str, unknown_factory):
    """`request(address)` answers; the same page for both, and the same time."""
    unknown = unknown_factory()
    assert normalised(request(known), known) == normalised(request(unknown), unknown)
    runs = []
    for _ in range(ATTEMPTS):
        result = measure(lambda: request(known), lambda: request(unknown_factory()))
        print(result)  # shown with -s, or when the test fails
        if result.close:
            return
        runs.append(str(result))
    pytest.fail("the answer time tells whether the address is known: " + "; ".join(runs))


def age_token(client: Client, *, child: bool = False) -> str:
    born = timezone.localdate() - timedelta(days=365 * (10 if child else 30))
    response = client.post("/accounts/signup/", {"birth_date": born.isoformat(), "country": "DE"})
    return re.search(r'name="age" value="([^"]+)"', response.text).group(1)


# -- the endpoints ------------------------------------------------------------------------


def test_it_answers_sign_up_alike_for_a_known_and_a_new_address():
    person("kelly")
    token = age_token(Client())

    def sign_up(address):
        data = {"age": token, "username": fresh_username(), "email": address}
        return submit(fresh_client(), "/accounts/signup/details/", {**data, "password": PASSWORD})

    assert_same_answer_and_time(sign_up, "kelly@known.example.org", fresh)


@pytest.mark.parametrize("known_side", ["child", "parent"])
def test_it_answers_a_childs_sign_up_alike_whoever_the_addresses_belong_to(known_side):
    person("kelly")
    token = age_token(Client(), child=True)

    def sign_up(address):
        child, parent = (address, fresh("parent")) if known_side == "child" else (fresh(), address)
        data = {"age": token, "username": fresh_username(), "email": child}
        data |= {"parent_email": parent, "password": PASSWORD}
        response = submit(fresh_client(), "/accounts/signup/details/", data)
        return response

    assert_same_answer_and_time(sign_up, "kelly@known.example.org", fresh)


@pytest.mark.parametrize(
    ("path", "verified"),
    [("/accounts/password/reset/", True), ("/accounts/verify/resend/", False)],
)
def test_it_answers_the_forms_that_mail_a_typed_address_alike(path, verified):
    person("kelly", email_verified=verified)

    def post(address):
        response = submit(fresh_client(), path, {"email": address})
        return response

    assert_same_answer_and_time(post, "kelly@known.example.org", fresh)


def test_it_answers_sign_in_alike_for_a_known_and_an_unknown_address():
    person("kelly")

    def sign_in(address):
        response = fresh_client().post(
            "/accounts/login/", {"login": address, "password": "not the password at all"}
        )
        return response

    assert_same_answer_and_time(sign_in, "kelly@known.example.org", fresh)


def reauthenticated(user: User) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    return client


def test_it_answers_an_email_change_alike_when_the_new_address_has_an_account():
    person("kelly")
    client = reauthenticated(person("morgan"))

    def change(address):
        response = submit(client, "/accounts/email/", {"email": address})
        return response

    assert_same_answer_and_time(change, "kelly@known.example.org", fresh)


def test_it_answers_a_parents_correction_of_a_childs_address_alike():
    person("kelly")
    parent = person("pat")
    result = children_sign_up_and_link(parent)
    client = reauthenticated(parent)
    url = f"/accounts/children/{result.pk}/correct/"

    def correct(address):
        response = submit(client, url, {"username": result.username, "email": address})
        return response

    assert_same_answer_and_time(correct, "kelly@known.example.org", fresh)


def children_sign_up_and_link(parent: User) -> User:
    from qualipact.accounts.services import account_sign_up
    from qualipact.accounts.tests.test_children import consent_token

    result = account_sign_up(
        username="kim",
        email="kim.child@known.example.org",
        password=PASSWORD,
        child_until=timezone.localdate() + timedelta(days=400),
        parent_email=parent.email,
    )
    children.parental_consent_grant(token=consent_token(result.user), parent=parent)
    return User.objects.get(pk=result.user.pk)


def test_it_answers_a_rights_request_by_email_alike():
    person("kelly")

    def ask(address):
        response = submit(
            fresh_client(),
            "/rights/request/",
            {"email": address, "kind": "access", "confirm_export": "on"},
        )
        return response

    assert_same_answer_and_time(ask, "kelly@known.example.org", fresh)


def test_it_answers_the_newsletter_sign_up_alike():
    from qualipact.consent.selectors import consent_wording_current

    person("kelly")
    wording = consent_wording_current("marketing").sha256

    def subscribe(address):
        return submit(
            fresh_client(), "/newsletter/", {"email": address, "wording": wording, "agree": "on"}
        )

    assert_same_answer_and_time(subscribe, "kelly@known.example.org", fresh)


def test_it_answers_the_contact_form_alike():
    person("kelly")

    def write(address):
        data = {
            "kind": "general",
            "name": "Sam Example",
            "email": address,
            "subject_line": "A question",
            "message": "Could you tell me more about your services?",
        }
        response = submit(fresh_client(), "/contact/", data)
        return response

    assert_same_answer_and_time(write, "kelly@known.example.org", fresh)

"""Sign-up, address confirmation, password rules and reset, and email change.

Every email here goes through the outbox to a real SMTP server on 127.0.0.1, and the
links the tests follow are read from the messages that server received.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.db import connections

from conftest import deliver_queued, run_deferred
from qualipact.accounts.models import User
from qualipact.accounts.services import account_create

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
EMAIL = "lena.fischer@example.org"
ADULT = {"birth_date": "1990-05-17", "country": "DE"}


def age_token(client) -> str:
    response = client.post("/accounts/signup/", ADULT)
    assert response.status_code == 200
    return re.search(r'name="age" value="([^"]+)"', response.text).group(1)


def sign_up(client, *, username="lena", email=EMAIL, password=PASSWORD):
    """Both steps of the form, then what the worker does with it in the background."""
    data = {"age": age_token(client), "username": username, "email": email}
    # POST/redirect/GET: the person sees the page the form redirects to.
    response = client.post("/accounts/signup/details/", {**data, "password": password}, follow=True)
    run_deferred()
    return response


def messages_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def body(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def link(message, kind: str) -> str:
    """The path of the emailed link of this kind (the server's SITE_URL host is not ours)."""
    url = re.search(rf"https?://\S+/accounts/{kind}/\S+/", body(message)).group(0)
    return urlsplit(url).path


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def sign_in(client, login="lena", password=PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


# -- sign-up and confirmation -----------------------------------------------------------


def test_it_signs_up_in_two_steps_and_confirms_the_address_by_the_emailed_link(client, smtp):
    assert client.get("/accounts/signup/").status_code == 200
    step_one = client.post("/accounts/signup/", ADULT)
    assert step_one.status_code == 200
    # The answers are not carried forward, only a signed "adult or child until" value.
    assert "1990" not in step_one.text and 'name="age"' in step_one.text

    response = sign_up(client)
    assert response.status_code == 200
    assert "data-signup-done" in response.text
    user = User.objects.get(username="lena")
    assert user.email == EMAIL and user.email_verified_at is None

    deliver_queued()
    [message] = messages_to(smtp, EMAIL)
    assert message["Subject"] == "Confirm your email address"
    path = link(message, "verify")

    # Opening the link (or a mail scanner fetching it) changes nothing: a button confirms.
    page = client.get(path)
    assert page.status_code == 200 and "<button" in page.text
    user.refresh_from_db()
    assert user.email_verified_at is None

    done = client.post(path)
    assert done.status_code == 200 and "data-verified" in done.text
    user.refresh_from_db()
    assert user.email_verified_at is not None

    response = sign_in(client)
    assert response.status_code == 302 and signed_in(client)


def test_it_refuses_sign_in_before_the_address_is_confirmed_and_says_why(client, smtp):
    sign_up(client)
    response = sign_in(client)
    assert response.status_code == 403
    assert 'data-not-ready="email"' in response.text
    assert not signed_in(client)
    # By email address too: the same page, still no session.
    response = sign_in(client, login=EMAIL)
    assert 'data-not-ready="email"' in response.text and not signed_in(client)


def test_it_starts_again_when_the_age_answer_is_tampered_with(client):
    token = age_token(client)
    response = client.post(
        "/accounts/signup/details/",
        {"age": token[:-2] + "xx", "username": "lena", "email": EMAIL, "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "please start again" in response.text
    assert not User.objects.exists()


def test_it_answers_an_address_that_has_an_account_the_same_and_tells_its_owner(client, smtp):
    account_create(username="lena", email=EMAIL, password=PASSWORD, email_verified=True)
    fresh = sign_up(client, username="lena2", email="new.person@example.org")
    taken = sign_up(client, username="someone", email=EMAIL)
    assert taken.status_code == fresh.status_code == 200
    assert taken.templates[0].name == fresh.templates[0].name == "accounts/signup_done.html"
    assert User.objects.filter(email_index=User.objects.get(username="lena").email_index).count()
    assert not User.objects.filter(username="someone").exists()

    deliver_queued()
    [notice] = messages_to(smtp, EMAIL)
    assert notice["Subject"] == "Someone tried to create an account with your address"
    assert "/accounts/password/reset/" in body(notice)


def test_it_keeps_no_plaintext_address_anywhere_and_allauths_email_table_empty(client, smtp):
    sign_up(client)
    deliver_queued()
    client.post(link(messages_to(smtp, EMAIL)[0], "verify"))
    sign_in(client)

    assert EmailAddress.objects.count() == 0
    needles = (EMAIL, EMAIL.split("@")[0])
    leaks = []
    for alias in ("default", "keys"):
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (introspected names)
                for row in cursor.fetchall():
                    for value in row:
                        text = (
                            value.decode("latin-1")
                            if isinstance(value, bytes | memoryview)
                            else str(value)
                        )
                        leaks += [(table, n) for n in needles if n in text]
    assert leaks == []


# -- password rules (NIST SP 800-63B-4: length and a blocklist, no composition rules) ----


@pytest.mark.parametrize(
    "password",
    [
        "fifteen chars ok",  # 16 characters, letters and spaces only
        "abcdefghijk mno",  # exactly 15, no digit, no capital, no symbol
        "a rather long passphrase of sixty-four characters in total.....x",  # 64
        "w" + "ords and more words " * 10,  # 201 characters
    ],
)
def test_it_accepts_any_password_of_fifteen_characters_or_more(client, smtp, password):
    assert len(password) in (16, 15, 64, 201)
    response = sign_up(client, password=password)
    assert response.status_code == 200, response.text
    assert User.objects.get(username="lena").check_password(password)


def test_it_refuses_fourteen_characters_with_a_clear_message(client):
    response = sign_up(client, password="fourteen chars")
    assert len("fourteen chars") == 14
    assert response.status_code == 400
    assert "Use at least 15 characters" in response.text
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password", ["1234567890qwertyuiop", "aaaaaaaaaaaaaaaaaa", "abcdefghijklmnopq"]
)
def test_it_refuses_common_and_patterned_passwords(client, password):
    response = sign_up(client, password=password)
    assert response.status_code == 400
    assert "This password is too common" in response.text
    assert not User.objects.exists()


# -- password reset ---------------------------------------------------------------------


@pytest.fixture
def lena():
    return account_create(username="lena", email=EMAIL, password=PASSWORD, email_verified=True)


def reset_link(client, smtp) -> str:
    client.post("/accounts/password/reset/", {"email": EMAIL})
    deliver_queued()
    return link(messages_to(smtp, EMAIL)[-1], "password/reset")


def test_it_answers_a_reset_request_the_same_whether_or_not_the_address_is_known(
    client, smtp, lena
):
    known = client.post("/accounts/password/reset/", {"email": EMAIL}, follow=True)
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert "data-reset-sent" in known.text and "data-reset-sent" in unknown.text
    assert known.templates[0].name == unknown.templates[0].name
    deliver_queued()
    assert [m["To"] for m in smtp.messages] == [EMAIL]


def test_it_resets_the_password_by_a_link_that_works_once(client, smtp, lena):
    path = reset_link(client, smtp)
    assert client.get(path).status_code == 200
    new = "a brand new passphrase for lena"
    done = client.post(path, {"password": new})
    assert done.status_code == 200 and "data-password-reset" in done.text
    lena.refresh_from_db()
    assert lena.check_password(new)

    again = client.post(path, {"password": "yet another passphrase here"})
    assert again.status_code == 400 and "data-invalid-link" in again.text
    lena.refresh_from_db()
    assert lena.check_password(new)
    assert client.get(path).status_code == 400


def test_it_refuses_a_tampered_reset_link_and_changes_nothing(client, smtp, lena):
    path = reset_link(client, smtp)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = path.replace(token, token[:-3] + ("abc" if not token.endswith("abc") else "xyz"))
    response = client.post(tampered, {"password": "a brand new passphrase for lena"})
    assert response.status_code == 400
    assert "This password reset link is not valid" in response.text
    lena.refresh_from_db()
    assert lena.check_password(PASSWORD)


def test_it_refuses_an_expired_reset_link_and_changes_nothing(client, smtp, lena, monkeypatch):
    path = reset_link(client, smtp)
    later = time.time() + 3601  # the link is valid for an hour
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.post(path, {"password": "a brand new passphrase for lena"})
    assert response.status_code == 400
    assert "data-invalid-link" in response.text and "expired" in response.text
    lena.refresh_from_db()
    assert lena.check_password(PASSWORD)


# -- email change -----------------------------------------------------------------------


def test_it_changes_the_address_after_reauthentication_and_a_link_to_the_new_one(
    client, smtp, lena
):
    new = "lena.f@example.net"
    sign_in(client)
    # A signed-in session alone is not enough: the password is asked again first.
    response = client.get("/accounts/email/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})

    sent = client.post("/accounts/email/", {"email": new}, follow=True)
    assert sent.status_code == 200 and "data-email-change-sent" in sent.text
    lena.refresh_from_db()
    assert lena.email == EMAIL  # unchanged until the link is followed

    deliver_queued()
    [confirm] = messages_to(smtp, new)
    [told] = messages_to(smtp, EMAIL)
    assert told["Subject"] == "A change of your email address was requested"
    assert new not in body(told)  # the old inbox is not told where the account went
    path = link(confirm, "email/confirm")
    assert client.get(path).status_code == 200
    lena.refresh_from_db()
    assert lena.email == EMAIL

    done = client.post(path)
    assert done.status_code == 200 and "data-email-changed" in done.text
    lena.refresh_from_db()
    assert lena.email == new and lena.pending_email is None
    assert EmailAddress.objects.count() == 0

    client.post("/accounts/logout/")
    sign_in(client, login=new)
    assert signed_in(client)


def test_it_answers_an_email_change_to_an_address_with_an_account_the_same_and_tells_that_address(
    client, smtp, lena
):
    account_create(username="kelly", email="kelly@example.org", password=PASSWORD)
    sign_in(client)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    free = client.post("/accounts/email/", {"email": "lena.free@example.net"}, follow=True)
    taken = client.post("/accounts/email/", {"email": "Kelly@EXAMPLE.org"}, follow=True)
    assert taken.status_code == free.status_code == 200
    assert taken.templates[0].name == free.templates[0].name
    assert "data-email-change-sent" in taken.text and "cannot be used" not in taken.text

    deliver_queued()
    # The account asking is told the same both times; the holder of the taken address is
    # told why nothing changed, and gets no link.
    told = messages_to(smtp, EMAIL)
    assert [m["Subject"] for m in told] == ["A change of your email address was requested"] * 2
    assert body(told[0]) == body(told[1])
    [explained] = [m for m in smtp.messages if m["To"].lower() == "kelly@example.org"]
    assert explained["Subject"] == "Your address was given for another Qualipact account"
    assert "/accounts/email/confirm/" not in body(explained)
    lena.refresh_from_db()
    assert lena.pending_email == "lena.free@example.net"


def test_it_signs_in_with_an_address_longer_than_a_username(client):
    long_address = "lena.fischer.from.the.marketing.department@example.org"
    assert len(long_address) > 30  # the longest username
    account_create(username="lena", email=long_address, password=PASSWORD, email_verified=True)
    response = sign_in(client, login=long_address)
    assert response.status_code == 302 and signed_in(client)

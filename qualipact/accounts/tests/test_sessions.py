"""Signed-in sessions: the one cookie, the session record, timeouts, ending sessions, sweeps."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import deliver_queued
from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import AccountSession, User
from qualipact.accounts.selectors import session_end_reason
from qualipact.accounts.services import account_create, session_key_hash
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.models import AuditEvent
from qualipact.retention.engine import retention_sweep
from qualipact.retention.events import RetentionCode

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "a completely different phrase 77"
COOKIE = "__Host-qp_session"
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IP_GB = "81.2.69.142"
IP_US = "8.8.8.8"


def make_account(username: str = "carol", **extra) -> User:
    return account_create(
        username=username,
        email=f"{username}.tester@example.org",
        password=PASSWORD,
        email_verified=True,
        **extra,
    )


def sign_in(client: Client, login: str = "carol", *, ua: str = CHROME_LINUX, ip: str = IP_GB):
    response = client.post(
        "/accounts/login/",
        {"login": login, "password": PASSWORD},
        headers={"user-agent": ua},
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 302, response.content[:2000]
    return response


def reauthenticate(client: Client) -> None:
    # allauth asks for the password again before sensitive changes, even right after sign-in.
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content[:2000]


def browser(ua: str = CHROME_LINUX, ip: str = IP_GB) -> Client:
    return Client(headers={"user-agent": ua}, REMOTE_ADDR=ip)


def codes(subject_id) -> list[int]:
    return list(
        AuditEvent.objects.filter(subject_id=subject_id)
        .order_by("id")
        .values_list("code", flat=True)
    )


@pytest.fixture
def carol() -> User:
    return make_account("carol")


# -- signing in ------------------------------------------------------------------------


def test_it_sets_no_cookie_for_anonymous_pages(client):
    for path in ("/", "/accounts/login/", "/accounts/signup/", "/privacy/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.cookies, path
    assert not client.cookies


def test_it_sets_exactly_one_session_cookie_at_sign_in(carol):
    client = browser()
    response = sign_in(client)
    assert list(response.cookies) == [COOKIE]
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["domain"]  # __Host- cookies have no Domain attribute


def test_it_records_the_session_at_sign_in(carol):
    client = browser()
    sign_in(client)
    key = client.cookies[COOKIE].value
    record = AccountSession.objects.get(subject=carol.subject)
    assert record.session_key_hash == session_key_hash(key)
    assert record.session_key == key
    assert record.device == "Chrome on Linux"
    assert record.country == "GB"
    assert record.ended_at is None
    assert AccountsCode.ACCOUNT_SIGNED_IN in codes(carol.subject_id)
    signed_in = AuditEvent.objects.get(
        subject_id=carol.subject_id, code=AccountsCode.ACCOUNT_SIGNED_IN
    )
    assert signed_in.data == {"session": str(record.pk)}
    # The key, a credential, is not stored in the clear anywhere in the row.
    raw = AccountSession.objects.filter(pk=record.pk).values_list("session_key", flat=True)[0]
    assert key.encode() not in bytes(raw)


def test_it_rotates_the_session_key_at_sign_in(carol):
    client = browser()
    # A session that exists before sign-in (allauth keeps the login flow's state in one).
    session = client.session
    session["before"] = "sign-in"
    session.save()
    before = session.session_key
    client.cookies[COOKIE] = before
    sign_in(client)
    after = client.cookies[COOKIE].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.filter(session_key=after).exists()


def test_it_stores_no_country_for_a_child(carol):
    child = make_account("kiddo", child_until=timezone.localdate() + timedelta(days=400))
    client = browser(ip=IP_US)
    client.force_login(child)
    record = AccountSession.objects.get(subject=child.subject)
    assert record.country is None
    raw = AccountSession.objects.filter(pk=record.pk).values_list("country", flat=True)[0]
    assert raw is None


def test_it_signs_out_and_marks_the_session_ended(carol):
    client = browser()
    sign_in(client)
    key = client.cookies[COOKIE].value
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    record = AccountSession.objects.get(subject=carol.subject)
    assert record.ended_reason == "signed_out"
    assert record.ended_at is not None
    assert not Session.objects.filter(session_key=key).exists()
    assert AccountsCode.ACCOUNT_SIGNED_OUT in codes(carol.subject_id)


# -- the lifetime middleware -------------------------------------------------------------


def test_it_costs_an_anonymous_request_no_session_query(client):
    client.get("/accounts/login/")  # warm up templates and url resolvers
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    touched = [q["sql"] for q in queries if "session" in q["sql"] or "accounts_user" in q["sql"]]
    assert touched == []


def test_it_touches_last_seen_at_most_once_a_minute(carol):
    client = browser()
    sign_in(client)
    record = AccountSession.objects.get(subject=carol.subject)
    first = timezone.now() - timedelta(seconds=30)
    AccountSession.objects.filter(pk=record.pk).update(last_seen_at=first)
    assert client.get("/accounts/sessions/").status_code == 200
    record.refresh_from_db()
    assert record.last_seen_at == first
    earlier = timezone.now() - timedelta(minutes=5)
    AccountSession.objects.filter(pk=record.pk).update(last_seen_at=earlier)
    assert client.get("/accounts/sessions/").status_code == 200
    record.refresh_from_db()
    assert record.last_seen_at > earlier + timedelta(minutes=4)


@pytest.mark.parametrize(
    ("field", "age", "reason"),
    [
        ("last_seen_at", timedelta(seconds=3601), "idle_timeout"),
        ("signed_in_at", timedelta(seconds=86401), "absolute_timeout"),
    ],
)
def test_it_signs_out_a_session_past_its_timeout(carol, field, age, reason):
    client = browser()
    sign_in(client)
    key = client.cookies[COOKIE].value
    record = AccountSession.objects.get(subject=carol.subject)
    # Keep the other clock fresh, so only the one under test has run out.
    now = timezone.now()
    clocks = {"last_seen_at": now, "signed_in_at": now, field: now - age}
    AccountSession.objects.filter(pk=record.pk).update(**clocks)
    response = client.get("/accounts/sessions/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Faccounts%2Fsessions%2F%3Fpage%3D2"
    record.refresh_from_db()
    assert record.ended_reason == reason
    assert not Session.objects.filter(session_key=key).exists()
    # Signed out for good: the next request is anonymous.
    again = client.get("/accounts/sessions/")
    assert again.status_code == 302
    assert again["Location"].startswith("/accounts/login/")
    ended = AuditEvent.objects.filter(
        subject_id=carol.subject_id, code=AccountsCode.ACCOUNT_SESSION_ENDED
    ).get()
    assert ended.data == {"session": str(record.pk), "reason": reason}


def test_it_refuses_a_form_post_after_the_timeout_with_401(carol):
    client = browser()
    sign_in(client)
    AccountSession.objects.filter(subject=carol.subject).update(
        last_seen_at=timezone.now() - timedelta(hours=2)
    )
    response = client.post("/accounts/sessions/")
    assert response.status_code == 401
    assert b"data-session-ended" in response.content


def test_it_follows_the_idle_setting(carol, settings):
    settings.SESSION_IDLE_SECONDS = 120
    client = browser()
    sign_in(client)
    AccountSession.objects.filter(subject=carol.subject).update(
        last_seen_at=timezone.now() - timedelta(seconds=150)
    )
    assert client.get("/accounts/sessions/").status_code == 302
    assert AccountSession.objects.get(subject=carol.subject).ended_reason == "idle_timeout"


def test_it_signs_out_a_browser_whose_session_record_is_gone(carol):
    client = browser()
    sign_in(client)
    AccountSession.objects.filter(subject=carol.subject).delete()
    response = client.get("/accounts/sessions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# -- password change and account deletion end sessions -----------------------------------


def test_it_ends_every_session_when_the_password_changes(carol):
    laptop, phone = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(laptop)
    sign_in(phone, ua=FIREFOX_WINDOWS, ip=IP_US)
    assert phone.get("/accounts/sessions/").status_code == 200
    reauthenticate(laptop)
    response = laptop.post("/accounts/password/change/", {"password": NEW_PASSWORD})
    assert response.status_code == 200, response.content[:2000]
    assert b"data-password-changed" in response.content
    assert AccountSession.objects.filter(subject=carol.subject, ended_at=None).count() == 0
    assert set(
        AccountSession.objects.filter(subject=carol.subject).values_list("ended_reason", flat=True)
    ) == {"password_changed"}
    assert Session.objects.count() == 0
    for client in (laptop, phone):
        response = client.get("/accounts/sessions/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_ends_every_session_when_the_password_is_reset(carol, smtp):
    laptop, phone = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(laptop)
    sign_in(phone, ua=FIREFOX_WINDOWS, ip=IP_US)
    anonymous = Client()
    anonymous.post("/accounts/password/reset/", {"email": "carol.tester@example.org"})
    deliver_queued()
    reset = next(m for m in smtp.messages if m["Subject"] == "Reset your password")
    body = reset.get_payload(decode=True).decode()
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/password/reset/\S+/)", body).group(1)
    response = anonymous.post(link, {"password": NEW_PASSWORD})
    assert response.status_code == 200, response.content[:2000]
    assert AccountSession.objects.filter(subject=carol.subject, ended_at=None).count() == 0
    for client in (laptop, phone):
        assert client.get("/accounts/sessions/").status_code == 302


def test_it_ends_every_session_when_the_account_is_deleted(carol):
    laptop, phone = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(laptop)
    sign_in(phone, ua=FIREFOX_WINDOWS, ip=IP_US)
    subject_id = carol.subject_id
    reauthenticate(laptop)
    response = laptop.post("/accounts/delete/", {"confirm": "delete my account"}, follow=True)
    assert response.status_code == 200, response.content[:2000]
    assert not User.objects.filter(pk=carol.pk).exists()
    assert Session.objects.count() == 0
    assert AccountsCode.ACCOUNT_SESSION_ENDED in codes(subject_id)
    response = phone.get("/accounts/sessions/")
    assert response.status_code == 302


# -- the session list --------------------------------------------------------------------


def test_it_lists_only_own_active_sessions_and_marks_this_device(carol):
    dave = make_account("dave")
    laptop, phone, other = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US), browser()
    sign_in(laptop)
    sign_in(phone, ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(other, "dave")
    response = laptop.get("/accounts/sessions/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    mine = AccountSession.objects.filter(subject=carol.subject)
    assert mine.count() == 2
    for record in mine:
        assert f'data-session="{record.pk}"' in page
    theirs = AccountSession.objects.get(subject=dave.subject)
    assert str(theirs.pk) not in page
    assert page.count("data-current") == 1
    assert "Chrome on Linux <strong>(this device)</strong>" in page
    assert "Firefox on Windows" in page


def test_it_requires_sign_in_for_the_session_list(client):
    response = client.get("/accounts/sessions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_ends_one_of_my_other_sessions(carol):
    laptop, phone = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US)
    sign_in(laptop)
    sign_in(phone, ua=FIREFOX_WINDOWS, ip=IP_US)
    records = AccountSession.objects.filter(subject=carol.subject)
    target = next(r for r in records if r.device == "Firefox on Windows")
    response = laptop.post(f"/accounts/sessions/{target.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sessions/"
    target.refresh_from_db()
    assert target.ended_reason == "ended_by_user"
    assert phone.get("/accounts/sessions/").status_code == 302
    assert laptop.get("/accounts/sessions/").status_code == 200


def test_it_404s_for_every_session_of_someone_else_and_changes_nothing(carol):
    dave = make_account("dave")
    dave_browsers = [browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US)]
    sign_in(dave_browsers[0], "dave")
    sign_in(dave_browsers[1], "dave", ua=FIREFOX_WINDOWS, ip=IP_US)
    dave_browsers[1].post("/accounts/logout/")  # an ended one too
    laptop = browser()
    sign_in(laptop)
    before = list(AccountSession.objects.order_by("pk").values())
    sessions_before = set(Session.objects.values_list("session_key", flat=True))
    for record in AccountSession.objects.filter(subject=dave.subject):
        response = laptop.post(f"/accounts/sessions/{record.pk}/end/")
        assert response.status_code == 404
    assert list(AccountSession.objects.order_by("pk").values()) == before
    assert set(Session.objects.values_list("session_key", flat=True)) == sessions_before
    assert dave_browsers[0].get("/accounts/sessions/").status_code == 200


def test_it_signs_out_everywhere_else(carol):
    laptop, phone, tablet = browser(), browser(ua=FIREFOX_WINDOWS, ip=IP_US), browser()
    for client in (laptop, phone, tablet):
        sign_in(client)
    response = laptop.post("/accounts/sessions/")
    assert response.status_code == 302
    assert AccountSession.objects.filter(subject=carol.subject, ended_at=None).count() == 1
    assert laptop.get("/accounts/sessions/").status_code == 200
    assert phone.get("/accounts/sessions/").status_code == 302
    assert tablet.get("/accounts/sessions/").status_code == 302


def test_it_signs_this_browser_out_when_it_ends_its_own_session(carol):
    laptop = browser()
    sign_in(laptop)
    record = AccountSession.objects.get(subject=carol.subject)
    response = laptop.post(f"/accounts/sessions/{record.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not Session.objects.exists()
    assert laptop.get("/accounts/sessions/").status_code == 302


# -- new-device email ----------------------------------------------------------------------


def test_it_emails_a_new_device_but_not_a_known_one(carol, smtp):
    sign_in(browser())  # the first sign-in ever: nothing to compare with
    sign_in(browser())  # the same browser and system again
    deliver_queued()
    assert not [m for m in smtp.messages if "New sign-in" in m["Subject"]]
    sign_in(browser(ua=FIREFOX_WINDOWS, ip=IP_US), ua=FIREFOX_WINDOWS, ip=IP_US)
    deliver_queued()
    notices = [m for m in smtp.messages if m["Subject"] == "New sign-in to your Qualipact account"]
    assert len(notices) == 1
    notice = notices[0]
    assert notice["To"] == "carol.tester@example.org"
    body = notice.get_payload(decode=True).decode()
    assert "Firefox on Windows" in body
    assert "US" in body
    assert "UTC" in body
    assert "http://127.0.0.1:8000/accounts/sessions/" in body
    assert codes(carol.subject_id).count(AccountsCode.ACCOUNT_NEW_DEVICE) == 1


def test_it_never_puts_a_country_in_a_childs_new_device_email(smtp):
    child = make_account("kiddo", child_until=timezone.localdate() + timedelta(days=400))
    sign_in(browser(), "kiddo")
    sign_in(browser(ua=FIREFOX_WINDOWS, ip=IP_US), "kiddo", ua=FIREFOX_WINDOWS, ip=IP_US)
    assert OutboundEmail.objects.filter(subject=child.subject).exists()
    deliver_queued()
    notice = next(m for m in smtp.messages if m["Subject"].startswith("New sign-in"))
    body = notice.get_payload(decode=True).decode()
    assert "Country" not in body


# -- sweeps ----------------------------------------------------------------------------------


def test_it_sweeps_only_sessions_past_retention(carol):
    for _ in range(3):
        sign_in(browser())
    old, edge, fresh = AccountSession.objects.filter(subject=carol.subject)
    now = timezone.now()
    AccountSession.objects.filter(pk=old.pk).update(last_seen_at=now - timedelta(days=91))
    AccountSession.objects.filter(pk=edge.pk).update(last_seen_at=now - timedelta(days=89))
    assert retention_sweep(model="accounts.AccountSession")[0].done == 1
    assert set(AccountSession.objects.values_list("pk", flat=True)) == {edge.pk, fresh.pk}
    swept = AuditEvent.objects.filter(code=RetentionCode.RETENTION_SWEPT).latest("id")
    assert swept.data["model"] == "accounts.AccountSession" and swept.data["rows"] == 1
    assert retention_sweep(model="accounts.AccountSession")[0].done == 0


@pytest.mark.parametrize(
    ("seen_ago", "signed_in_ago", "ended", "reason"),
    [
        (timedelta(minutes=5), timedelta(hours=2), False, None),
        (timedelta(minutes=61), timedelta(hours=2), False, "idle_timeout"),
        (timedelta(minutes=5), timedelta(hours=25), False, "absolute_timeout"),
        (timedelta(minutes=5), timedelta(hours=2), True, "ended"),
    ],
)
def test_it_decides_a_session_s_end_without_a_request(
    settings, seen_ago, signed_in_ago, ended, reason
):
    settings.SESSION_IDLE_SECONDS = 3600
    settings.SESSION_ABSOLUTE_SECONDS = 86400
    now = timezone.now()
    record = AccountSession(
        last_seen_at=now - seen_ago,
        signed_in_at=now - signed_in_ago,
        ended_at=now if ended else None,
    )
    assert session_end_reason(record=record, now=now) == reason
    assert session_end_reason(record=None, now=now) == "ended"

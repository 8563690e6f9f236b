"""Signed-in sessions: recorded at sign-in, listed and ended, and swept after retention.

Each sign-in is one AccountSession row. Django's session key, a credential, is found by
its keyed hash and kept encrypted so that ending a session can delete Django's row. The
device is reduced to "browser on system" and the place to a country, never for a child.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, timedelta
from importlib import import_module

import iptocc
import ua_parser
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from qualipact.accounts import events
from qualipact.accounts.models import AccountSession, User
from qualipact.accounts.selectors import session_end_reason
from qualipact.comms.services import email_queue
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ProcessingRefused, VaultError
from qualipact.privacy.models import DataSubject
from qualipact.web.links import site_url
from qualipact.web.ratelimit import client_address

UNKNOWN = "Other"
# How often a request refreshes its session's `last_seen_at` (the idle timeout's clock).
TOUCH_EVERY = timedelta(minutes=1)


def session_key_hash(session_key: str) -> str:
    return vault.blind_index("session", session_key)


def _session_store(session_key: str | None = None) -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return store


def _browser_and_system(user_agent: str) -> tuple[str, str]:
    if not user_agent.strip():
        return UNKNOWN, UNKNOWN
    parsed = ua_parser.parser(user_agent, ua_parser.Domain.USER_AGENT | ua_parser.Domain.OS)
    browser = (parsed.user_agent.family if parsed.user_agent else "") or UNKNOWN
    system = (parsed.os.family if parsed.os else "") or UNKNOWN
    return browser[:64], system[:64]


def _country(address: str) -> str | None:
    try:
        return iptocc.country_code(address) or None
    except (TypeError, ValueError):
        return None


def _is_child(user: User) -> bool:
    # Any date set means the account was opened by a child: no location, even after it.
    return user.is_child or user.child_until is not None


@transaction.atomic
def session_record(*, request: HttpRequest, user: User) -> AccountSession:
    """Record a sign-in (called from the user_logged_in signal, after Django's key rotation)."""
    session_key = request.session.session_key
    if session_key is None:
        request.session.save()
        session_key = request.session.session_key
    assert session_key is not None
    subject = DataSubject.objects.select_for_update().get(pk=user.subject_id)
    browser, system = _browser_and_system(request.headers.get("User-Agent", ""))
    device = f"{browser} on {system}"
    device_hash = vault.blind_index("device", f"{subject.pk}\x00{browser}\x00{system}")
    country = None if _is_child(user) else _country(client_address(request))
    earlier = AccountSession.objects.filter(subject=subject)
    has_earlier = earlier.exists()
    new_device = has_earlier and not earlier.filter(device_hash=device_hash).exists()
    record = AccountSession.objects.create(
        subject=subject,
        session_key_hash=session_key_hash(session_key),
        session_key=session_key,
        device=device,
        country=country,
        device_hash=device_hash,
    )
    events.account_signed_in_event(record=record)
    if new_device:
        _new_device_notice(user=user, record=record)
    return record


def _new_device_notice(*, user: User, record: AccountSession) -> None:
    events.account_new_device_event(record=record)
    when = record.signed_in_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f"Country (from the network address): {record.country}\n" if record.country else ""
    link = site_url("accounts:sessions")
    # The person may have restricted processing or objected: the sign-in goes ahead anyway.
    with contextlib.suppress(ProcessingRefused):
        email_queue(
            subject=user.subject,
            to=user.email,
            subject_line="New sign-in to your Qualipact account",
            body=(
                f"Hello {user.username},\n\n"
                "your Qualipact account was just signed in to from a device it was not used "
                f"from before.\n\nDevice: {record.device}\n{where}Time: {when}\n\n"
                "If this was you, there is nothing to do. If not, end that session and change "
                f"your password:\n{link}\n"
            ),
            purpose="service_notifications",
        )


def _end(record: AccountSession, *, reason: str) -> None:
    """Delete Django's session row and mark ours ended; the caller holds the transaction."""
    # With the key shredded the session key is unreadable; Django's row then simply expires.
    with contextlib.suppress(VaultError):
        _session_store(record.session_key).delete()
    record.ended_at = timezone.now()
    record.ended_reason = reason[:32]
    record.save(update_fields=["ended_at", "ended_reason", "updated_at"])
    events.account_session_ended_event(record=record)


@transaction.atomic
def sessions_end_all(*, subject: DataSubject, reason: str, keep: uuid.UUID | None = None) -> int:
    """End every session of the subject: delete Django's session rows and mark ours ended.

    `keep` spares one session (the one asking to sign out everywhere else).
    """
    active = AccountSession.objects.select_for_update().filter(
        subject=subject, ended_at__isnull=True
    )
    if keep is not None:
        active = active.exclude(pk=keep)
    ended = 0
    for record in active:
        _end(record, reason=reason)
        ended += 1
    return ended


def sessions_end_for_erasure(*, subject: DataSubject, actor: Actor) -> None:
    """The erasure primitive's first step for a person with an account: end every
    session (Django's rows deleted), so an erased person is signed out everywhere."""
    sessions_end_all(subject=subject, reason="account_deleted")


@transaction.atomic
def session_end(
    *, subject: DataSubject, session_id: uuid.UUID, reason: str = "ended_by_user"
) -> bool:
    """End one session, only if it belongs to this subject and is still going."""
    record = (
        AccountSession.objects.select_for_update()
        .filter(subject=subject, pk=session_id, ended_at__isnull=True)
        .first()
    )
    if record is None:
        return False
    _end(record, reason=reason)
    return True


@transaction.atomic
def session_expire(*, record: AccountSession, reason: str) -> None:
    """End a session the lifetime middleware found idle or too old."""
    record = AccountSession.objects.select_for_update().get(pk=record.pk)
    if record.ended_at is None:
        _end(record, reason=reason)


# Not atomic: one indexed read and at most one single-statement write per request;
# session_expire takes its own transaction when the session ends.
def session_activity_record(*, session_key: str) -> str | None:
    """A request on a signed-in session (`session_key` as Django keeps it): None when the
    session may go on, its `last_seen_at` moved to now at most once per TOUCH_EVERY (one
    minute); otherwise the reason it may not (`session_end_reason`), the session then
    ended, audited, by `session_expire`."""
    record = (
        AccountSession.objects.filter(session_key_hash=session_key_hash(session_key))
        .only("id", "subject_id", "signed_in_at", "last_seen_at", "ended_at")
        .first()
    )
    now = timezone.now()
    reason = session_end_reason(record=record, now=now)
    if reason is None:
        assert record is not None
        if now - record.last_seen_at >= TOUCH_EVERY:
            AccountSession.objects.filter(pk=record.pk).update(last_seen_at=now, updated_at=now)
        return None
    if record is not None and record.ended_at is None:
        session_expire(record=record, reason=reason)
    return reason


@transaction.atomic
def session_signed_out(*, session_key: str | None) -> bool:
    """Mark the session ended when its user signs out (the user_logged_out signal)."""
    if not session_key:
        return False
    record = (
        AccountSession.objects.select_for_update()
        .filter(session_key_hash=session_key_hash(session_key), ended_at__isnull=True)
        .first()
    )
    if record is None:
        return False
    record.ended_at = timezone.now()
    record.ended_reason = "signed_out"
    record.save(update_fields=["ended_at", "ended_reason", "updated_at"])
    events.account_signed_out_event(record=record)
    return True

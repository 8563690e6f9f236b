"""Data-subject requests: receipt, verification, the workflow and its deadlines.

A request is received from a signed-in account, from a parent for their child, or by
email from a person without an account, who proves the address with a one-time code
sent to it (the answer is the same whether or not the address is known). Simple
requests are fulfilled at once after verification (rights.services.fulfil); rectification of
fields people cannot edit themselves, and every refusal, need a DPO. Every change of
status is audited and emailed to the person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from qualipact.comms.services import email_queue
from qualipact.privacy.audit import Actor
from qualipact.privacy.deferred import deferred_submit
from qualipact.privacy.errors import ApplicationError, InvalidInput, VaultError
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.privacy.selectors import subject_find_by_email
from qualipact.rights import events
from qualipact.rights.deadlines import Regime, deadlines_for
from qualipact.rights.models import Appeal, DataRequest, RequestNote
from qualipact.rights.receipts import RECEIPT_DAYS, by_receipt, request_page_url
from qualipact.rights.transfer import endpoint_check
from qualipact.web.api import is_scalar_text, scalar_text
from qualipact.web.roles import DPO_GROUP

PURPOSE = events.PURPOSE
CODE_MINUTES = 30
CODE_ATTEMPTS = 5
TICKET_SALT = "qualipact.rights.ticket"
TICKET_MAX_AGE = CODE_MINUTES * 60
# In `details` of a request by email only: the address that asked (set by the service).
ADDRESS_KEY = "email"
# The longest text one field of a request may hold, and the most corrections one may name:
# longer is refused, never cut.
TEXT_MAX = 4000
CHANGES_MAX = 50
DEFERRED_BY_EMAIL = "rights.request_by_email"


class InvalidVerification(ApplicationError):
    code = "invalid_verification"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "The code is not valid: it may be wrong, expired or used up. Nothing was changed.",
            {"code": "invalid"},
        )


def _code_hash(request_id: Any, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def details_of(request: DataRequest) -> dict[str, Any]:
    """What the person asked. JSON may hold a lone surrogate stored before input was
    checked; it comes back as U+FFFD so every page and export can encode it."""
    return _scalar(json.loads(request.details)) if request.details else {}


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        return scalar_text(value)
    if isinstance(value, dict):
        return {scalar_text(k): _scalar(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_scalar_text(value) or "\x00" in value:
        raise InvalidInput(f"{name} must be text", {name: "not_text"}, public="Write it as text")
    if len(value) > TEXT_MAX:
        raise InvalidInput(
            f"{name} is longer than {TEXT_MAX}",
            {name: "too_long", "max_length": TEXT_MAX},
            public=f"Write at most {TEXT_MAX} characters",
        )
    return value.strip()


def _check_details(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """Refuse a malformed request before anything is stored."""
    if kind not in DataRequest.Kind.values:
        raise ApplicationError("Unknown kind of request", {"kind": "unknown"})
    clean: dict[str, Any] = {}
    if kind == DataRequest.Kind.OBJECTION:
        purpose = details.get("purpose", "")
        purpose = purpose if isinstance(purpose, str) else ""
        allowed = {
            code
            for code, p in PURPOSES.items()
            if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST or code == "marketing"
        }
        if purpose not in allowed:
            raise ApplicationError(
                "Name a purpose based on our legitimate interest, or direct marketing",
                {"purpose": "not_objectable"},
            )
        clean["purpose"] = purpose
    if kind == DataRequest.Kind.CONSENT_WITHDRAWAL:
        purposes = details.get("purposes") or [
            code for code, p in PURPOSES.items() if p.legal_basis is LegalBasis.CONSENT
        ]
        if not isinstance(purposes, list) or any(
            not isinstance(p, str)
            or p not in PURPOSES
            or PURPOSES[p].legal_basis is not LegalBasis.CONSENT
            for p in purposes
        ):
            raise ApplicationError("Name purposes based on consent", {"purposes": "invalid"})
        clean["purposes"] = sorted(set(purposes))
    if kind == DataRequest.Kind.RECTIFICATION:
        text = _text(details.get("correction", ""), "correction")
        if not text:
            raise ApplicationError(
                "Say what is wrong and what it should be", {"correction": "empty"}
            )
        clean["correction"] = text
        changes = details.get("changes")
        if changes is not None:
            if (
                not isinstance(changes, list)
                or len(changes) > CHANGES_MAX
                or not all(isinstance(change, dict) for change in changes)
            ):
                raise InvalidInput("Too many or malformed changes", {"changes": "invalid"})
            keys = ("model", "record", "field", "value")
            clean["changes"] = [{key: _text(c.get(key, ""), key) for key in keys} for c in changes]
    if kind == DataRequest.Kind.PORTABILITY and details.get("endpoint"):
        clean["endpoint"] = endpoint_check(_text(details["endpoint"], "endpoint"))
    # Never an address: where the person is written to is decided by who they are
    # (contact_address), not by anything they or anyone else types in `details`.
    return clean


@transaction.atomic
def request_submit(
    *,
    subject: DataSubject,
    kind: str,
    channel: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
    regime: str = Regime.GDPR,
    requested_by: DataSubject | None = None,
    verified: bool = True,
    request_id: uuid.UUID | None = None,
) -> DataRequest:
    """Record a request; a verified one goes straight on to fulfilment (on commit).

    `request_id`, when given, is the new request's id (the ticket of a request by email
    names it before the request exists).
    """
    if channel not in DataRequest.Channel.values:
        raise ApplicationError("Unknown channel", {"channel": "unknown"})
    if regime not in DataRequest.Regime.values:
        raise ApplicationError("Unknown regime", {"regime": "unknown"})
    clean = _check_details(kind, details or {})
    now = timezone.now()
    dates = deadlines_for(timezone.localdate(now), Regime(regime))
    request = DataRequest.objects.create(
        id=request_id or uuid.uuid4(),
        subject=subject,
        requested_by=requested_by,
        kind=kind,
        channel=channel,
        regime=regime,
        details=json.dumps(clean) if clean else None,
        received_at=now,
        due_on=dates.due,
        status=DataRequest.Status.IN_PROGRESS if verified else DataRequest.Status.VERIFYING,
        verified_at=now if verified else None,
        acknowledged_at=now if verified else None,
    )
    events.request_received_event(request=request, actor=actor)
    if verified:
        _notify(request, "received")
        transaction.on_commit(lambda: _fulfil_later(request.pk))
    return request


def _fulfil_later(request_id: Any) -> None:
    # Imported here: the task runs rights.services.fulfil, which calls these services.
    from qualipact.rights.tasks import request_fulfil

    request_fulfil.delay(str(request_id))


@transaction.atomic
def request_by_email(
    *, email: str, kind: str, details: dict[str, Any] | None = None, regime: str = Regime.GDPR
) -> str:
    """A request from a person without an account: a code goes to the address on file.

    Returns a ticket for the code form. Whether we know the address is decided in the
    background (privacy.deferred), so the answer and its timing are the same for every
    address; an unknown address gets a ticket whose code can never be right.
    """
    clean = _check_details(kind, details or {})
    if regime not in DataRequest.Regime.values:
        raise ApplicationError("Unknown regime", {"regime": "unknown"})
    request_id = uuid.uuid4()
    deferred_submit(
        kind=DEFERRED_BY_EMAIL,
        payload={
            "email": email,
            "kind": kind,
            "details": clean,
            "regime": regime,
            "request_id": str(request_id),
        },
    )
    return signing.dumps({"r": str(request_id), "n": secrets.token_hex(8)}, salt=TICKET_SALT)


def request_by_email_finish(payload: dict[str, Any]) -> None:
    """The background half of `request_by_email`: only a known address gets a code."""
    email = payload["email"]
    subject = subject_find_by_email(email)
    if subject is None or subject.erased_at is not None:
        return
    request = request_submit(
        subject=subject,
        kind=payload["kind"],
        channel=DataRequest.Channel.EMAIL,
        actor=Actor.system("rights-by-email"),
        details=payload["details"],
        regime=payload["regime"],
        verified=False,
        request_id=uuid.UUID(payload["request_id"]),
    )
    # The address that asked, known to be this person's (it found them), is where the
    # code, and after it every message about the request, goes.
    details = {**payload["details"], ADDRESS_KEY: email.strip()}
    request.details = json.dumps(details)
    code = f"{secrets.randbelow(1_000_000):06d}"
    request.verification_code_hash = _code_hash(request.pk, code)
    request.verification_expires_at = timezone.now() + timedelta(minutes=CODE_MINUTES)
    request.save(
        update_fields=["details", "verification_code_hash", "verification_expires_at", "updated_at"]
    )
    email_queue(
        subject=subject,
        to=email.strip(),
        subject_line="Your code to confirm a request about your data",
        body=(
            f"Someone, hopefully you, asked us: {request.get_kind_display()}.\n"
            f"Your code is {code}. It works for {CODE_MINUTES} minutes.\n"
            "If it was not you, ignore this message: nothing happens without the code."
        ),
        purpose="data_subject_rights",
    )


def request_verify(*, ticket: str, code: str) -> DataRequest:
    """Check the emailed code; right, the request goes on; wrong five times, it is refused."""
    try:
        payload = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:
        raise InvalidVerification from None
    request_id = payload.get("r") if isinstance(payload, dict) else None
    if not request_id:
        raise InvalidVerification
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status != DataRequest.Status.VERIFYING:
            raise InvalidVerification
        expired = (
            request.verification_expires_at is None
            or request.verification_expires_at < timezone.now()
        )
        right = hmac.compare_digest(
            request.verification_code_hash, _code_hash(request.pk, code.strip())
        )
        if expired or not right:
            request.verification_attempts += 1
            request.save(update_fields=["verification_attempts", "updated_at"])
            events.verification_failed_event(request=request)
            if request.verification_attempts >= CODE_ATTEMPTS:
                _refuse(request, basis=DataRequest.RefusalBasis.IDENTITY, reason="", actor=None)
            failed = True
        else:
            failed = False
    if failed:
        raise InvalidVerification
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        now = timezone.now()
        request.status = DataRequest.Status.IN_PROGRESS
        request.verified_at = now
        request.acknowledged_at = request.acknowledged_at or now
        request.verification_code_hash = ""
        request.save()
        events.request_verified_event(request=request)
        _notify(request, "received")
        transaction.on_commit(lambda: _fulfil_later(request.pk))
    return request


# -- the workflow ----------------------------------------------------------------------

_MESSAGES = {
    "received": (
        "We received your request",
        "We received your request ({kind}) on {received}. We answer by {due} at the latest.",
    ),
    "in_progress": ("Your request is in progress", "We are working on your request ({kind})."),
    "waiting_on_person": (
        "We need something from you",
        "To go on with your request ({kind}) we need more from you: {note}",
    ),
    "completed": ("Your request is complete", "Your request ({kind}) is complete. {note}"),
    "refused": (
        "We cannot do what you asked",
        "We cannot do what you asked ({kind}): {basis}. {note}\n\n"
        "If you disagree, you can appeal: open your request's page and tell us why in "
        "your own words. A member of our data protection team who did not make this "
        "decision answers within {appeal_days} days.\n{page}\n{page_life}\n"
        "You may also complain to a data protection supervisory authority at any time, for "
        "example the one of the country where you live or work.",
    ),
    "failed": (
        "Your request is delayed",
        "A problem on our side stopped your request ({kind}). Our Data Protection Officer "
        "has been told and will finish it by {due}; you do not need to do anything.",
    ),
    "extended": (
        "We need more time for your request",
        "Your request ({kind}) needs more time: {note} We now answer by {due}.",
    ),
}


def contact_address(request: DataRequest) -> str | None:
    """Where to write about the request: the address that proved itself with the emailed
    code, or the account's (of the parent, for a parent's request). The outbox refuses any
    address that is not the person's own (privacy.recipients)."""
    details = details_of(request)
    if request.channel == DataRequest.Channel.EMAIL and details.get(ADDRESS_KEY):
        return str(details[ADDRESS_KEY])
    account = getattr(request.requested_by or request.subject, "account", None)
    try:
        return str(account.email) if account is not None else None
    except VaultError:  # the key is shredded: nobody to write to
        return None


def _notify(request: DataRequest, event: str, *, note: str = "") -> None:
    address = contact_address(request)
    if address is None:
        return
    subject_line, body = _MESSAGES[event]
    recipient = request.requested_by or request.subject
    # Only the refusal names the request's page (how to appeal); the link is built only then.
    page = request_page_url(request) if event == "refused" else ""
    page_life = (
        f"(The link works for {RECEIPT_DAYS} days.)\n" if page and by_receipt(request) else ""
    )
    email_queue(
        subject=recipient,
        to=address,
        subject_line=subject_line,
        body=body.format(
            kind=request.get_kind_display().lower(),
            received=request.received_at.date().isoformat(),
            due=request.effective_due_on.isoformat(),
            basis=request.refusal_basis_for_person,
            note=note,
            page=page,
            page_life=page_life,
            appeal_days=Appeal.DECIDE_WITHIN_DAYS,
        )
        + f"\n\nReference: {request.pk}",
        purpose="data_subject_rights",
    )


def _status(request: DataRequest, status: str, actor: Actor | None) -> None:
    previous = request.status
    request.status = status
    events.request_status_changed_event(
        request=request, actor=actor or events.RIGHTS_ACTOR, previous=previous, status=status
    )


@transaction.atomic
def request_wait_on_person(*, request: DataRequest, note: str, actor: Actor) -> DataRequest:
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    _open_or_refuse(request)
    _status(request, DataRequest.Status.WAITING_ON_PERSON, actor)
    request.save()
    _notify(request, "waiting_on_person", note=note)
    return request


@transaction.atomic
def request_resume(*, request: DataRequest, actor: Actor) -> DataRequest:
    """Take up a request that was waiting on the person again (and tell them).

    Raises ApplicationError for a request that is not waiting: nothing to resume, and
    the person is not told twice that it is in progress."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    _open_or_refuse(request)
    if request.status != DataRequest.Status.WAITING_ON_PERSON:
        raise ApplicationError(
            "This request is not waiting on the person", {"status": request.status}
        )
    _status(request, DataRequest.Status.IN_PROGRESS, actor)
    request.save()
    _notify(request, "in_progress")
    return request


def _open_or_refuse(request: DataRequest) -> None:
    if not request.is_open:
        raise ApplicationError("This request is closed", {"status": request.status})


@transaction.atomic
def request_complete(
    *, request: DataRequest, actor: Actor | None, outcome: dict[str, Any], note: str = ""
) -> DataRequest:
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    _open_or_refuse(request)
    _status(request, DataRequest.Status.COMPLETED, actor)
    request.completed_at = timezone.now()
    request.outcome = outcome
    request.save()
    events.request_completed_event(request=request, actor=actor or events.RIGHTS_ACTOR)
    _notify(request, "completed", note=note)
    return request


def _refuse(request: DataRequest, *, basis: str, reason: str, actor: Actor | None) -> None:
    _status(request, DataRequest.Status.REFUSED, actor)
    request.refusal_basis = basis
    request.refusal_reason = reason or None
    request.completed_at = timezone.now()
    request.save()
    events.request_refused_event(request=request, actor=actor or events.RIGHTS_ACTOR, basis=basis)
    _notify(request, "refused", note=reason)


@transaction.atomic
def request_refuse(*, request: DataRequest, basis: str, reason: str, actor: Actor) -> DataRequest:
    """A DPO's refusal, with its basis and reasons; the person is told of the right to complain."""
    if basis not in DataRequest.RefusalBasis.values:
        raise ApplicationError("Unknown basis for a refusal", {"basis": "unknown"})
    if not reason.strip():
        raise ApplicationError("A refusal needs reasons", {"reason": "empty"})
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    _open_or_refuse(request)
    _refuse(request, basis=basis, reason=reason.strip(), actor=actor)
    return request


@transaction.atomic
def request_extend(
    *, request: DataRequest, new_due_on: Any, reason: str, actor: Actor
) -> DataRequest:
    """Art 12(3): once, by up to two further months, told with reasons in the first month."""
    if not reason.strip():
        raise ApplicationError("An extension needs reasons", {"reason": "empty"})
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    _open_or_refuse(request)
    if request.extended_due_on is not None:
        raise ApplicationError("A request can be extended only once", {"extension": "used"})
    dates = deadlines_for(timezone.localdate(request.received_at), Regime(request.regime))
    if not dates.extension_allowed(notified_on=timezone.localdate(), new_due=new_due_on):
        raise ApplicationError(
            f"The new date must be after {dates.due} and no later than "
            f"{dates.latest_extended_due}, and it must be set before {dates.due}",
            {"new_due_on": "out_of_range"},
        )
    request.extended_due_on = new_due_on
    request.extension_reason = reason.strip()
    request.extension_notified_at = timezone.now()
    request.save()
    events.request_extended_event(request=request, actor=actor, due_on=new_due_on)
    _notify(request, "extended", note=reason.strip())
    return request


# Errors worth another automatic try (a busy or restarting database); anything else
# needs a person.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
MAX_AUTOMATIC_ATTEMPTS = 3


def failure_code_of(exc: BaseException) -> str:
    """A stable code for why fulfilment failed: the domain error's code, or the exception's
    class name. Never its message, which can quote personal data."""
    if isinstance(exc, ApplicationError):
        return exc.code
    return type(exc).__name__[:64]


@transaction.atomic
def request_fail(*, request_id: Any, exc: BaseException) -> DataRequest:
    """Record that fulfilling a request failed.

    A transient database error leaves the request in progress for the next automatic try
    (the task's retry or the reconciler), up to MAX_AUTOMATIC_ATTEMPTS; anything else, or
    the last try, marks it failed: the DPOs are emailed and the person is told it is
    delayed (the deadline stands). The DPO retries it (`request_retry`) or answers it.
    """
    request = DataRequest.objects.select_for_update().get(pk=request_id)
    if request.status != DataRequest.Status.IN_PROGRESS:
        return request
    request.fulfil_attempts += 1
    if isinstance(exc, TRANSIENT_ERRORS) and request.fulfil_attempts < MAX_AUTOMATIC_ATTEMPTS:
        request.save(update_fields=["fulfil_attempts", "updated_at"])
        return request
    code = failure_code_of(exc)
    _status(request, DataRequest.Status.FAILED, None)
    request.failed_at = timezone.now()
    request.failure_code = code
    request.save()
    events.request_failed_event(request=request, failure=code)
    _notify(request, "failed")
    dpos_email(
        subject_line="A request failed and needs you",
        body=(
            f"Fulfilling a request ({request.get_kind_display().lower()}, due "
            f"{request.effective_due_on}) failed: {code}, after {request.fulfil_attempts} "
            f"attempt(s).\nOpen it in the DPO queue to retry it or answer it.\n\n"
            f"Reference: {request.pk}"
        ),
    )
    return request


@transaction.atomic
def request_retry(*, request: DataRequest, actor: Actor) -> DataRequest:
    """A DPO sends a failed request back to fulfilment."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != DataRequest.Status.FAILED:
        raise ApplicationError("Only a failed request can be retried", {"status": request.status})
    _status(request, DataRequest.Status.IN_PROGRESS, actor)
    request.fulfil_attempts = 0
    request.failure_code = ""
    request.failed_at = None
    request.save()
    events.request_retried_event(request=request, actor=actor)
    transaction.on_commit(lambda: _fulfil_later(request.pk))
    return request


def dpo_accounts() -> list[Any]:
    """Active staff in the DPO group."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=DPO_GROUP)
        .select_related("subject")
        .distinct()
    )


def dpos_email(*, subject_line: str, body: str) -> int:
    """Email every DPO (references, kinds and dates only: no personal data of the person
    concerned): work on answering rights requests. Returns how many were queued."""
    sent = 0
    for dpo in dpo_accounts():
        try:
            address = dpo.email
        except VaultError:
            address = None
        if not address:
            continue  # no readable address (an erased staff member): nobody to tell
        email_queue(
            subject=dpo.subject, to=str(address), subject_line=subject_line, body=body,
            purpose="data_subject_rights",
        )  # fmt: skip
        sent += 1
    return sent


@transaction.atomic
def request_note_add(*, request: DataRequest, text: str, actor: Actor) -> RequestNote:
    if not text.strip():
        raise ApplicationError("A note cannot be empty", {"text": "empty"})
    note = RequestNote.objects.create(
        request=request, subject_id=request.subject_id, author=actor.id, text=text.strip()
    )
    events.note_added_event(request=request, note=note, actor=actor)
    return note

"""Children below the age threshold and their parents' consent (privacy policy section 9).

A child's account is held pending (status awaiting_parent, only email and username)
until a parent follows the emailed link and consents while signed in to their own
verified adult account. Email-plus: some time after consenting the parent gets a second
message with a way to revoke. A request not answered in time erases the pending
account (a retention rule declared in accounts/privacy.py). Parents see, correct,
download and delete their child's data and can withdraw consent, which deletes it.
Every deletion is the spine's erasure: rows deleted, key shredded, nothing of the
child left.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from qualipact.accounts import age, events
from qualipact.accounts.events import AccountsCode
from qualipact.accounts.models import ParentalConsent, User
from qualipact.accounts.services.sessions import sessions_end_all
from qualipact.comms.services import email_queue
from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.registry import registry
from qualipact.privacy.selectors import SubjectData, subject_collect
from qualipact.privacy.services import subject_erase
from qualipact.privacy.tokens import token_hash
from qualipact.web.dates import long_date
from qualipact.web.links import site_url
from qualipact.web.roles import Role

CONFIRMATION_ACTOR = Actor.system("parental_confirmations_send")


class ConsentLinkInvalid(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "This consent link is not valid: it may have expired or been answered already.",
            {"token": "invalid"},
        )


def _consent_days() -> int:
    return int(settings.PARENTAL_CONSENT_DAYS)


def _confirmation_delay() -> timedelta:
    return timedelta(hours=int(getattr(settings, "PARENTAL_CONFIRMATION_HOURS", 24)))


# -- what a parent is told --------------------------------------------------------------

# What a child's account holds, in the words the consent page and the email use.
COLLECTED_FOR_CHILDREN = (
    "the child's email address, encrypted, to sign in and to receive account messages",
    "the username the child chose",
    "the password, stored only as a one-way hash",
    "the devices the child is signed in on (browser and sign-in times, never a location)",
    "your email address as given by the child, and when you consented",
)
NEVER_FOR_CHILDREN = (
    "no location",
    "no marketing or newsletters",
    "no personalised offers or advertising",
    "no sharing with partners",
)


def _collected_text() -> str:
    lines = [f"  - {item}" for item in COLLECTED_FOR_CHILDREN]
    never = ", ".join(NEVER_FOR_CHILDREN)
    return "\n".join(lines) + f"\nAnd never: {never}."


# -- request, grant, decline --------------------------------------------------------------


@transaction.atomic
def parental_consent_request(*, child: User, parent_email: str) -> ParentalConsent:
    """Store a hashed single-use token and email the parent the link that asks for consent."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    consent = ParentalConsent.objects.create(
        subject=child.subject,
        parent_email=parent_email.strip(),
        token_hash=token_hash(token),
        expires_at=now + timedelta(days=_consent_days()),
    )
    events.parental_consent_requested_event(consent=consent, days=_consent_days())
    link = site_url("accounts:parental_consent", token=token)
    # The email belongs to the child's subject: it is purged with the pending account.
    email_queue(
        subject=child.subject,
        to=consent.parent_email,
        subject_line="Your child asks for your consent to use Qualipact",
        body=(
            f"Hello,\n\nsomeone who gave this address as a parent's or guardian's, with the "
            f"username {child.username}, asked to create a Qualipact account. Because of "
            "their age, the account cannot be used until a parent agrees.\n\n"
            "If you agree, we will keep only:\n"
            f"{_collected_text()}\n\n"
            "You can see, correct, download and delete this data, and withdraw your consent, "
            "at any time from your own account.\n\n"
            f"To read more and decide, follow this link within {_consent_days()} days "
            f"(you will sign in to, or create, your own account):\n{link}\n\n"
            f"If you do nothing, the account and everything in it is deleted after "
            f"{_consent_days()} days. If you do not know this person, ignore this message."
        ),
        purpose="legal_compliance",
    )
    return consent


def parental_consent_for_token(token: str) -> ParentalConsent:
    """The open request a link is for; refused when unknown, answered or expired."""
    consent = (
        ParentalConsent.objects.select_related("subject__account")
        .filter(token_hash=token_hash(token), status=ParentalConsent.Status.REQUESTED)
        .first()
    )
    if consent is None or consent.expires_at <= timezone.now():
        raise ConsentLinkInvalid()
    return consent


def parent_refusal(*, parent: User, child: User) -> str | None:
    """Why this account cannot consent for this child, or None when it can."""
    if parent.pk == child.pk or parent.subject_id == child.subject_id:
        return "You cannot consent for your own account."
    if not parent.is_usable:
        return "Your account must be active and its email address confirmed."
    if parent.child_until is not None:
        return "Only an adult can give consent for a child."
    return None


@transaction.atomic
def parental_consent_grant(*, token: str, parent: User) -> ParentalConsent:
    """The signed-in parent consents: link them, activate the child, schedule the confirmation."""
    consent = parental_consent_for_token(token)
    consent = ParentalConsent.objects.select_for_update().get(pk=consent.pk)
    if consent.status != ParentalConsent.Status.REQUESTED:
        raise ConsentLinkInvalid()
    child = User.objects.select_for_update().get(subject_id=consent.subject_id)
    refusal = parent_refusal(parent=parent, child=child)
    if refusal is not None:
        raise ApplicationError(refusal, {"parent": "not_allowed"})
    now = timezone.now()
    consent.status = ParentalConsent.Status.GRANTED
    consent.parent = parent
    consent.granted_at = now
    consent.confirmation_due_at = now + _confirmation_delay()
    consent.save()
    child.status = User.Status.ACTIVE
    child.save(update_fields=["status", "updated_at"])
    events.parental_consent_granted_event(consent=consent, parent=parent)
    return consent


def parental_consent_decline(*, token: str) -> None:
    """Whoever holds the link says no: the pending account is deleted at once."""
    consent = parental_consent_for_token(token)
    child = User.objects.get(subject_id=consent.subject_id)
    _child_erase(
        child=child,
        actor=Actor.system("parental_consent_declined"),
        code=AccountsCode.PARENTAL_CONSENT_WITHDRAWN,
        data={"consent": str(consent.pk), "declined": True},
    )


# -- erasure ------------------------------------------------------------------------------


def _child_erase(*, child: User, actor: Actor, code: AccountsCode, data: dict[str, Any]) -> None:
    """Audit why, end the child's sessions, then the spine's erasure (rows and key)."""
    subject = DataSubject.objects.get(pk=child.subject_id)
    with transaction.atomic():
        events.child_erased_event(code=code, subject_id=subject.pk, actor=actor, data=data)
        sessions_end_all(subject=subject, reason="account_deleted")
        subject_erase(subject=subject, actor=actor)


# -- delayed confirmations to parents -----------------------------------------------------


def parental_confirmations_send() -> int:
    """Send each parent their due confirmation (once each); returns how many were sent.
    A request not answered in time is the retention engine's: its declared rule erases
    the pending account (accounts/privacy.py)."""
    due = ParentalConsent.objects.filter(
        status=ParentalConsent.Status.GRANTED,
        confirmation_sent_at__isnull=True,
        confirmation_due_at__lte=timezone.now(),
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if _confirmation_send(consent_id=pk))


@transaction.atomic
def _confirmation_send(*, consent_id: uuid.UUID) -> bool:
    consent = (
        ParentalConsent.objects.select_for_update()
        .filter(
            pk=consent_id,
            status=ParentalConsent.Status.GRANTED,
            confirmation_sent_at__isnull=True,
        )
        .first()
    )
    if consent is None:
        return False  # sent, withdrawn or deleted meanwhile
    child = User.objects.get(subject_id=consent.subject_id)
    granted = consent.granted_at
    granted_on = f"{long_date(granted)} at {granted:%H:%M} UTC" if granted else ""
    dashboard = site_url("accounts:child_detail", child_id=child.pk)
    email_queue(
        subject=child.subject,
        to=consent.parent_email,
        subject_line="You consented to your child's Qualipact account",
        body=(
            f"Hello,\n\non {granted_on} you consented, from your own Qualipact account, to "
            f"the account of your child with the username {child.username}.\n\n"
            "We keep only:\n"
            f"{_collected_text()}\n\n"
            "If this was not you, or you changed your mind, withdraw your consent here; the "
            f"child's account and all its data are then deleted at once:\n{dashboard}\n"
        ),
        purpose="legal_compliance",
    )
    consent.confirmation_sent_at = timezone.now()
    consent.save(update_fields=["confirmation_sent_at", "updated_at"])
    events.parental_confirmation_sent_event(consent=consent, actor=CONFIRMATION_ACTOR)
    return True


# -- the parent's dashboard ---------------------------------------------------------------


def children_of(parent: User) -> list[User]:
    """The children whose consent this parent gave and still holds."""
    return list(
        User.objects.filter(
            subject__parental_consent__parent=parent,
            subject__parental_consent__status=ParentalConsent.Status.GRANTED,
        ).order_by("username")
    )


def child_of(*, parent: User, child_id: uuid.UUID | str) -> User | None:
    """The child with this id if, and only if, it is linked to this parent."""
    return User.objects.filter(
        pk=child_id,
        subject__parental_consent__parent=parent,
        subject__parental_consent__status=ParentalConsent.Status.GRANTED,
    ).first()


def _linked(parent: User, child: User) -> User:
    linked = child_of(parent=parent, child_id=child.pk)
    if linked is None:
        # The same message for "no such account" and "not your child".
        raise ApplicationError("No such child account", {"child": "not_found"})
    return linked


@dataclass
class ChildData:
    child: User
    data: SubjectData

    def as_dict(self) -> dict[str, Any]:
        records = []
        exported = {d.label for d in registry.subject_declarations() if d.in_exports}
        for record in self.data.records:
            if record.model not in exported:
                continue  # internal working records (a DPO's notes), as in exports
            # Secrets come out of subject_collect as "withheld", never with a value.
            fields = [field.as_dict() for field in record.fields]
            records.append({"model": record.model, "id": record.pk, "fields": fields})
        return {"child_id": str(self.child.pk), "records": records}


def _collect(parent: User, child: User, audit_event: Callable[..., AuditEvent]) -> ChildData:
    child = _linked(parent, child)
    data = subject_collect(DataSubject.objects.get(pk=child.subject_id))
    audit_event(parent=parent, child=child, records=len(data.records))
    return ChildData(child=child, data=data)


@transaction.atomic
def child_data_view(*, parent: User, child: User) -> ChildData:
    """Everything stored about the child, through the registry; the read is audited."""
    return _collect(parent, child, events.child_data_viewed_event)


@transaction.atomic
def child_data_export(*, parent: User, child: User) -> dict[str, Any]:
    """The child's data as a JSON-ready document for the parent's download."""
    collected = _collect(parent, child, events.child_data_downloaded_event)
    return {
        "exported_at": timezone.now().isoformat(),
        "note": (
            "Everything Qualipact stores about this child account. Credentials and keyed "
            "hashes are listed but their values are not handed out."
        ),
        **collected.as_dict(),
    }


@transaction.atomic
def child_data_correct(
    *, parent: User, child: User, username: str | None = None, email: str | None = None
) -> User:
    """Correct the child's username at once, or ask to change the child's address.

    A new address is changed as any account's is (`account_email_change_request`, in the
    background): a link goes to the new address, and the child's account keeps its
    current one until the link is followed. An address that already has an account gets
    an explanation by email instead. The parent sees the same answer either way, so this
    form never tells whether an address is known.
    """
    # Imported here: account services call into this module (sign-up, account deletion).
    from qualipact.accounts.services.accounts import (
        account_email_change_request_later,
        email_normalise,
    )

    child = User.objects.select_for_update().get(pk=_linked(parent, child).pk)
    changed: list[str] = []
    if username is not None and username != child.username:
        taken = User.objects.filter(username__iexact=username).exclude(pk=child.pk).exists()
        if taken:
            raise ApplicationError("This username is taken", {"username": "taken"})
        child.username = username
        try:
            with transaction.atomic():
                child.save(update_fields=["username", "updated_at"])
        except IntegrityError:
            raise ApplicationError("This username is taken", {"username": "taken"}) from None
        changed.append("username")
    if email is not None and email_normalise(email) != child.email:
        account_email_change_request_later(user=child, new_email=email)
        changed.append("email")
    if changed:
        events.child_data_corrected_event(parent=parent, child=child, fields=changed)
    return child


def child_account_delete(*, parent: User, child: User) -> None:
    """The parent deletes the child's account: everything erased, the key shredded."""
    child = _linked(parent, child)
    _child_erase(
        child=child,
        actor=Actor.subject(parent.subject_id),
        code=AccountsCode.CHILD_ACCOUNT_DELETED,
        data={"parent": str(parent.subject_id)},
    )


def parental_consent_withdraw(*, parent: User, child: User) -> None:
    """Art 7(3) / COPPA 312.6: processing stops and the child's data is deleted."""
    child = _linked(parent, child)
    _child_erase(
        child=child,
        actor=Actor.subject(parent.subject_id),
        code=AccountsCode.PARENTAL_CONSENT_WITHDRAWN,
        data={"parent": str(parent.subject_id)},
    )


# -- inadvertent collection ------------------------------------------------------------


class UnderageReason(models.TextChoices):
    """Why an account is reported as a child's; the code goes into the audit event.

    There is no free text: whatever a DPO would write about the child would have to be
    kept under the child's key, which the erasure shreds at once.
    """

    PARENT = "parent_report", "A parent or guardian told us"
    ACCOUNT_HOLDER = "account_holder_report", "The account holder told us"
    AUTHORITY = "authority_report", "A supervisory or other authority told us"
    STAFF_FINDING = "staff_finding", "We learned it in our own contact with the person"
    # The account holder's own correction of their date of birth (not offered to staff).
    BIRTH_DATE_CORRECTED = "birth_date_corrected", "The account holder corrected their birth date"


STAFF_REASONS = [
    (reason.value, reason.label)
    for reason in UnderageReason
    if reason is not UnderageReason.BIRTH_DATE_CORRECTED
]


class UnderageOutcome(StrEnum):
    ERASED = "erased"
    HAS_CONSENT = "has_consent"  # a parent consented: kept, only the threshold day moves
    ADULT = "adult"  # by the stated birth date the person is not a child: refused


def _has_granted_consent(account: User) -> bool:
    return ParentalConsent.objects.filter(
        subject_id=account.subject_id, status=ParentalConsent.Status.GRANTED
    ).exists()


def underage_mark(
    *, account: User, actor: Actor, reason: str, child_until: date | None = None
) -> bool:
    """An account found to belong to a child without a parent's consent is erased at once.

    Callers decide first, from a stated birth date and `accounts.age`, that the person
    is below the threshold (`underage_report_apply` for staff, `birth_date_correct` for
    the account holder). Returns True when the account was erased. A child whose parent
    consented keeps the account (only the date the threshold is reached moves).
    `reason` is an `UnderageReason` code and goes into the audit event.
    """
    if reason not in UnderageReason.values:
        raise ApplicationError("Give a reason from the list", {"reason": "unknown"})
    if _has_granted_consent(account):
        with transaction.atomic():
            if child_until is not None:
                User.objects.filter(pk=account.pk).update(
                    child_until=child_until, updated_at=timezone.now()
                )
            events.underage_account_kept_event(account=account, actor=actor, reason=reason)
        return False
    _child_erase(
        child=account,
        actor=actor,
        code=AccountsCode.UNDERAGE_ACCOUNT_ERASED,
        data={"by": str(actor.kind), "reason": reason},
    )
    return True


# What the underage tool shows a DPO of the account: of its personal data, the username
# only (its creation date and status are not personal data in the registry).
UNDERAGE_FIELDS_SHOWN = ("username",)


@transaction.atomic
def underage_account_open(*, username: str, actor: Actor) -> User | None:
    """The account (not staff) a DPO looks at before reporting it, or None.

    The look is audited twice: event 730 (the underage tool was used on the account) and,
    as every staff view of personal data, event 111 with the fields the page shows
    (`UNDERAGE_FIELDS_SHOWN`), which the person sees on "Who accessed my data"
    (privacy.access; GDPR Art 15(1)(c), policy §4 and §9).
    """
    account = User.objects.filter(username__iexact=username.strip(), is_staff=False).first()
    if account is None:
        return None
    events.underage_account_opened_event(account=account, actor=actor)
    StaffView(actor=actor, role=Role.DPO, purpose=events.CHILDREN_PURPOSE).record(
        subject=account.subject_id, model=User._meta.label, fields=UNDERAGE_FIELDS_SHOWN
    )
    return account


def underage_report_apply(
    *, account: User, birth_date: date, country: str, reason: str, actor: Actor
) -> UnderageOutcome:
    """A DPO reports an account as a child's, with the birth date and country the report gives.

    The same rule as the sign-up decides (`accounts.age`: max(14, the country's age of
    digital consent)). An adult by that date is refused and nothing changes (the refusal
    is audited, 731); a child without a parent's consent is erased at once (729); a child
    whose parent consented is kept (732). Neither the date nor the country is stored.
    Raises ApplicationError for a staff account or a reason not in `STAFF_REASONS`.
    """
    if reason not in dict(STAFF_REASONS):
        raise ApplicationError("Give a reason from the list", {"reason": "unknown"})
    if account.is_staff:
        raise ApplicationError("No such account", {"account": "not_found"})
    until = age.child_until(birth_date=birth_date, country=country, today=timezone.localdate())
    if until is None:
        with transaction.atomic():
            events.underage_report_refused_event(account=account, actor=actor, reason=reason)
        return UnderageOutcome.ADULT
    erased = underage_mark(account=account, actor=actor, reason=reason, child_until=until)
    return UnderageOutcome.ERASED if erased else UnderageOutcome.HAS_CONSENT


def birth_date_correct(*, account: User, birth_date: date, country: str) -> bool:
    """The account holder corrects their date of birth; neither answer is stored.

    Returns True when the date shows a child without a parent's consent: the account
    is then erased at once.
    """
    until = age.child_until(birth_date=birth_date, country=country, today=timezone.localdate())
    if until is None:
        return False
    return underage_mark(
        account=account,
        actor=Actor.subject(account.subject_id),
        reason=UnderageReason.BIRTH_DATE_CORRECTED,
        child_until=until,
    )

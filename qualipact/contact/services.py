import logging

from django.db import transaction

from qualipact.comms.services import email_queue
from qualipact.contact.events import inquiry_submitted_event
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.deferred import deferred_submit
from qualipact.privacy.errors import ApplicationError, ProcessingRefused
from qualipact.privacy.selectors import subject_find_by_email
from qualipact.privacy.services import subject_for_email

logger = logging.getLogger(__name__)
DEFERRED_INQUIRY = "contact.inquiry"

# The purpose each kind of inquiry is handled for.
PURPOSE_BY_KIND = {
    Inquiry.Kind.GENERAL: "customer_support",
    Inquiry.Kind.PRIVACY: "data_subject_rights",
    Inquiry.Kind.COMPLAINT: "data_subject_rights",
}


def _inquiry_check(fields: dict[str, str]) -> None:
    if fields["kind"] not in Inquiry.Kind.values:
        raise ApplicationError("Unknown inquiry kind", {"kind": "invalid"})
    required = ("name", "email", "subject_line", "message")
    if missing := sorted(field for field in required if not fields[field].strip()):
        raise ApplicationError("Required fields are empty", {"fields": missing})


@transaction.atomic
def inquiry_submit(
    *,
    kind: str,
    name: str,
    email: str,
    subject_line: str,
    message: str,
    phone: str = "",
    postal_address: str = "",
) -> Inquiry:
    """Store an inquiry, encrypted, for the subject known by this email (or a new one)."""
    _inquiry_check(
        {
            "kind": kind,
            "name": name,
            "email": email,
            "subject_line": subject_line,
            "message": message,
        }
    )
    subject = subject_for_email(email=email, actor=Actor.system("contact_form"))
    inquiry = Inquiry(
        subject=subject,
        kind=kind,
        name=name,
        email=email,
        phone=phone or None,
        postal_address=postal_address or None,
        subject_line=subject_line,
        message=message,
    )
    inquiry.save()
    inquiry_submitted_event(inquiry=inquiry, purpose=PURPOSE_BY_KIND[Inquiry.Kind(kind)])
    return inquiry


def inquiry_submit_later(
    *,
    kind: str,
    name: str,
    email: str,
    subject_line: str,
    message: str,
    phone: str = "",
    postal_address: str = "",
) -> None:
    """The contact form's service: the inquiry is stored in the background.

    Registering a new subject takes time that a known one does not, so the form answers
    the same, in the same time, for every address (privacy.deferred). Raises
    ApplicationError for a bad kind or empty required fields, before anything is kept.
    """
    fields = {
        "kind": kind,
        "name": name,
        "email": email,
        "subject_line": subject_line,
        "message": message,
        "phone": phone,
        "postal_address": postal_address,
    }
    _inquiry_check(fields)
    deferred_submit(kind=DEFERRED_INQUIRY, payload=fields)


def inquiry_submit_finish(payload: dict[str, str]) -> None:
    """The background half of `inquiry_submit_later`."""
    try:
        inquiry_submit(**payload)
    except ProcessingRefused:
        # A child's account: nothing beyond email and username may be stored for them.
        logger.info("contact form: message from a child's account not stored")
        inquiry_refusal_notice(email=payload["email"])


@transaction.atomic
def inquiry_refusal_notice(*, email: str) -> None:
    """Tell the owner of a child's account why their message was not kept.

    The contact page answers as it always does, so it never reveals that an address
    belongs to a child's account; the explanation goes to that address only.
    """
    subject = subject_find_by_email(email)
    if subject is None:
        return
    email_queue(
        subject=subject,
        to=email,
        subject_line="We could not keep your message",
        body=(
            "You wrote to us from the address of a child's account. We keep only a child's "
            "email address and username, so your message was not stored. Please ask your "
            "parent or guardian to write to us instead."
        ),
        purpose="customer_support",
    )

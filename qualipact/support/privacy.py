"""Personal data of support tickets: the thread, notes, attachments, feedback, links and
complaints. Everything is kept as long as its ticket (`contact.Inquiry`): 24 months
after it is closed, then deleted with it."""

from datetime import timedelta

from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data
from qualipact.support.models import (
    Attachment,
    Complaint,
    Feedback,
    InternalNote,
    TicketLink,
    TicketMessage,
)

TWO_YEARS = timedelta(days=730)


def _with_ticket(path: str) -> Retention:
    return Retention(
        after=f"{path}__closed_at",
        period=TWO_YEARS,
        only=((f"{path}__status", "closed"),),
        event="the ticket was closed",
    )


personal_data(
    TicketMessage,
    label="support message",
    label_plural="support messages",
    purposes=["customer_support"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=_with_ticket("inquiry"),
    fields={"body": PersonalField(Category.COMMUNICATION, label="message", encrypted=True)},
    # Who answered is a staff member's account; the kind and time say how and when.
    non_personal=[
        "id",
        "inquiry",
        "subject",
        "kind",
        "author",
        "sender_matches",
        "email_id_hash",
        "created_at",
    ],
)

personal_data(
    InternalNote,
    label="staff note on a support message",
    label_plural="staff notes on support messages",
    purposes=["customer_support"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.DERIVED,
    retention=_with_ticket("inquiry"),
    fields={"body": PersonalField(Category.COMMUNICATION, label="note", encrypted=True)},
    non_personal=["id", "inquiry", "subject", "author", "created_at"],
    # Staff's working notes, like a DPO's notes on a request: erased and swept with the
    # ticket, never shown to the person nor exported (policy §4: need to know).
    in_exports=False,
)

personal_data(
    Attachment,
    label="attachment to a support message",
    label_plural="attachments to support messages",
    purposes=["customer_support"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=_with_ticket("message__inquiry"),
    fields={
        "filename": PersonalField(Category.COMMUNICATION, label="file name", encrypted=True),
        "content": PersonalField(Category.COMMUNICATION, label="file", encrypted=True),
    },
    non_personal=["id", "message", "subject", "content_type", "size", "created_at"],
)

personal_data(
    Feedback,
    label="rating of an answer",
    label_plural="ratings of answers",
    purposes=["customer_support"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    retention=_with_ticket("inquiry"),
    fields={
        "score": PersonalField(Category.COMMUNICATION, label="rating"),
        "comment": PersonalField(Category.COMMUNICATION, encrypted=True),
    },
    non_personal=["id", "inquiry", "subject", "created_at", "updated_at"],
)

personal_data(
    TicketLink,
    label="link to a support message",
    label_plural="links to support messages",
    purposes=["customer_support"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.DERIVED,
    # A link is of use while it can open the ticket: gone a day after it expires.
    retention=Retention(after="expires_at", period=timedelta(days=1), event="the link expired"),
    fields={
        "token_hash": PersonalField(
            Category.IDENTIFIER, label="link code", secret=True, portable=False
        ),
    },
    non_personal=["id", "inquiry", "subject", "kind", "expires_at", "opened_at", "created_at"],
)

personal_data(
    Complaint,
    label="complaint",
    label_plural="complaints",
    purposes=["data_subject_rights"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.PROVIDED,
    retention=_with_ticket("inquiry"),
    fields={
        "country": PersonalField(Category.CONTACT, label="country you live in"),
        "extension_reason": PersonalField(
            Category.COMMUNICATION,
            label="why we needed more time",
            source=Source.DERIVED,
            encrypted=True,
        ),
        "outcome": PersonalField(Category.COMMUNICATION, source=Source.DERIVED),
        "outcome_note": PersonalField(
            Category.COMMUNICATION, label="our decision", source=Source.DERIVED, encrypted=True
        ),
    },
    non_personal=[
        "id",
        "inquiry",
        "subject",
        "acknowledge_by",
        "answer_by",
        "acknowledged_at",
        "extended_at",
        "reminded_at",
        "decided_at",
        "decided_by",
        "created_at",
    ],
)

"""Personal data collected by the contact form."""

from datetime import timedelta

from qualipact.contact.models import Inquiry
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, PersonalField, Retention, Source, personal_data

personal_data(
    Inquiry,
    label="contact message",
    label_plural="contact messages",
    purposes=["customer_support", "data_subject_rights"],
    legal_basis=LegalBasis.CONTRACT,
    source=Source.PROVIDED,
    # Kept 24 months after the ticket is closed, then deleted with its thread (an answered
    # ticket with no reply closes by itself: support.services.tickets_close_quiet).
    retention=Retention(
        after="closed_at",
        period=timedelta(days=730),
        only=(("status", "closed"),),
        event="the ticket was closed",
    ),
    fields={
        "name": PersonalField(Category.IDENTITY, encrypted=True),
        "email": PersonalField(Category.CONTACT, encrypted=True),
        "email_index": PersonalField(
            Category.IDENTIFIER,
            label="email lookup code",
            blind_index=True,
            source=Source.DERIVED,
            portable=False,
            secret=True,
        ),
        "phone": PersonalField(Category.CONTACT, encrypted=True),
        # Support answers by email (or by phone, when the person gives a number); only the
        # DPO needs a postal address, for a rights request, so support agents never see it
        # (Art. 5(1)(c), policy §4). The form says so.
        "postal_address": PersonalField(
            Category.CONTACT,
            purposes=("data_subject_rights",),
            legal_basis=LegalBasis.LEGAL_OBLIGATION,
            encrypted=True,
        ),
        "subject_line": PersonalField(Category.COMMUNICATION, label="subject", encrypted=True),
        "message": PersonalField(Category.COMMUNICATION, encrypted=True),
    },
    # queue and assignment say who handles the message (a staff member's account), not
    # anything about the person who wrote it; sent_signed_in says how it came (from an
    # account, or typed in by a visitor), as a support message's kind does.
    non_personal=[
        "id",
        "subject",
        "kind",
        "status",
        "queue",
        "assigned_to",
        "assigned_at",
        "closed_at",
        "sent_signed_in",
        "created_at",
        "updated_at",
    ],
)

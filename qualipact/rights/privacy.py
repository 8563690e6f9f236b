"""Data-subject requests: the log is kept 24 months; what the person wrote goes with them."""

from datetime import timedelta

from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import (
    Category,
    Erasure,
    PersonalField,
    Retention,
    Source,
    personal_data,
)
from qualipact.rights.models import Appeal, DataRequest, ExportFile, RequestNote

# 11 CCR 7101: records of requests and how they were answered, for 24 months.
# Requests still open are never swept.
STILL_OPEN = (("status__in", tuple(DataRequest.OPEN_STATUSES)),)
REQUEST_LOG_RETENTION = Retention(
    after="received_at",
    period=timedelta(days=730),
    unless=STILL_OPEN,
    event="the request was received",
)
REQUEST_OPEN = (("request__status__in", tuple(DataRequest.OPEN_STATUSES)),)

personal_data(
    DataRequest,
    label="request about your data",
    label_plural="requests about your data",
    purposes=["data_subject_rights"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.PROVIDED,
    retention=REQUEST_LOG_RETENTION,
    # Erasing the person keeps the log (kind, dates, status, outcome, basis of a refusal)
    # and clears what they wrote (legal obligation, Art 17(3)(b); accountability, Art 5(2)).
    erasure=Erasure.NULL,
    portable=False,
    # A parent's request about their child's account is about the child.
    for_children=True,
    fields={
        "details": PersonalField(Category.COMMUNICATION, encrypted=True),
        "extension_reason": PersonalField(Category.COMMUNICATION, encrypted=True),
        "refusal_reason": PersonalField(Category.COMMUNICATION, encrypted=True),
        "requested_by": PersonalField(Category.IDENTIFIER),
        # The keyed hash of the emailed one-time code (a credential while it is valid).
        "verification_code_hash": PersonalField(
            Category.IDENTIFIER, label="verification code (hashed)", source=Source.DERIVED,
            secret=True, erasure=Erasure.ANONYMISE, anonymise_to="",
        ),
    },
    non_personal=[
        "id", "subject", "kind", "status", "regime", "channel", "received_at", "due_on",
        "extended_due_on", "extension_notified_at", "acknowledged_at", "verified_at",
        "completed_at", "outcome", "refusal_basis", "fulfil_attempts", "failed_at",
        "failure_code",
        "verification_expires_at", "verification_attempts", "created_at", "updated_at",
    ],
)  # fmt: skip

personal_data(
    RequestNote,
    label="note on a request",
    label_plural="notes on a request",
    purposes=["data_subject_rights"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.DERIVED,
    retention=Retention(
        after="created_at", period=timedelta(days=730), unless=REQUEST_OPEN, event="it was written"
    ),
    portable=False,
    for_children=True,
    # The DPO's internal working notes are not shown to the person (issue #4); they are
    # erased with the person and deleted after 24 months like the log.
    in_exports=False,
    fields={"text": PersonalField(Category.COMMUNICATION, label="note", encrypted=True)},
    non_personal=["id", "request", "subject", "author", "created_at", "updated_at"],
)

personal_data(
    ExportFile,
    label="export of your data",
    label_plural="exports of your data",
    purposes=["data_subject_rights"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.DERIVED,
    # The file's record is kept with the request log; the file itself is cleared once its
    # download link expires (RIGHTS_EXPORT_DAYS after it was made).
    retention=Retention(
        after="created_at", period=timedelta(days=730), unless=REQUEST_OPEN, event="it was made"
    ),
    portable=False,
    for_children=True,
    fields={
        # Sealed under the person's key (rights.services.exports.export_seal), not a vault field: an
        # earlier copy of their data, handed over only through its own link.
        "sealed": PersonalField(
            Category.ACCOUNT,
            label="export file (encrypted)",
            secret=True,
            retention=Retention(
                after="expires_at",
                period=timedelta(0),
                then=Erasure.NULL,
                event="its download link expired",
            ),
        ),
        # The hash of the single-use download link.
        "token_hash": PersonalField(
            Category.IDENTIFIER, label="download link code (hashed)", secret=True
        ),
    },
    non_personal=[
        "id", "request", "subject", "filename", "sha256", "expires_at", "downloaded_at",
        "created_at", "updated_at",
    ],
)  # fmt: skip

personal_data(
    Appeal,
    label="appeal of a refused request",
    label_plural="appeals of refused requests",
    purposes=["data_subject_rights"],
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    source=Source.PROVIDED,
    # Kept with the request log it belongs to (24 months, 11 CCR 7101; accountability,
    # Art 5(2)); never swept while the appeal waits for a decision.
    retention=Retention(
        after="made_at",
        period=timedelta(days=730),
        unless=(("status", Appeal.Status.OPEN),),
        event="the appeal was made",
    ),
    portable=False,
    for_children=True,
    fields={
        "text": PersonalField(Category.COMMUNICATION, label="your appeal", encrypted=True),
        "country": PersonalField(
            Category.LOCATION, label="country where you live", encrypted=True
        ),
        "decision_reason": PersonalField(
            Category.COMMUNICATION, label="reasons for the decision on your appeal",
            source=Source.DERIVED, encrypted=True,
        ),
    },
    non_personal=[
        "id", "request", "subject", "status", "made_at", "due_on", "refused_by", "decided_at",
        "decided_by", "created_at", "updated_at",
    ],
)  # fmt: skip

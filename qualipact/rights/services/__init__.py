"""The rights app's writes (data-subject requests, GDPR Arts 12-22), one module per
sub-domain, re-exported here so callers write
`from qualipact.rights.services import request_submit`.

requests: receipt, verification, the workflow and its deadlines.
fulfil: carrying out verified requests (access, erasure, rectification, ...).
dpo: the Data Protection Officer's queue, trail, holds and restriction lifts.
exports: the access and portability archives, sealed.
reminders: the DPOs' reminders of requests coming due.
appeals: appeals of refused requests, decided by a second DPO, and their reminders.
evidence: the evidence package (PDF) of a request for a supervisory authority.

Modules of this package import each other directly, never through this file."""

from qualipact.rights.services.appeals import (
    appeal_decide,
    appeal_make,
    appeal_possible,
    appeal_reminders,
    appeals_queue,
    appeals_waiting,
)
from qualipact.rights.services.dpo import (
    DueFilter,
    event_name,
    legal_hold_lift_and_resume,
    request_trail,
    requests_queue,
    requests_waiting,
    restriction_lift,
    restriction_lift_notify,
    restriction_lift_state,
    subject_holds,
)
from qualipact.rights.services.evidence import EvidencePackage, evidence_build
from qualipact.rights.services.exports import (
    ExportArchive,
    ExportError,
    export_build,
    export_document,
    export_members,
    export_open,
    export_seal,
)
from qualipact.rights.services.fulfil import (
    RectifiableField,
    corrected_labels,
    corrected_note,
    erasure_receipt_text,
    erasure_resume,
    export_download,
    kept_categories,
    model_name,
    rectifiable_field,
    rectifiable_fields,
    rectification_apply,
    request_fulfil,
)
from qualipact.rights.services.reminders import deadline_reminders, requests_due
from qualipact.rights.services.requests import (
    InvalidVerification,
    contact_address,
    details_of,
    dpo_accounts,
    dpos_email,
    failure_code_of,
    request_by_email,
    request_by_email_finish,
    request_complete,
    request_extend,
    request_fail,
    request_note_add,
    request_refuse,
    request_resume,
    request_retry,
    request_submit,
    request_verify,
    request_wait_on_person,
)

__all__ = [
    "DueFilter",
    "EvidencePackage",
    "ExportArchive",
    "ExportError",
    "InvalidVerification",
    "RectifiableField",
    "appeal_decide",
    "appeal_make",
    "appeal_possible",
    "appeal_reminders",
    "appeals_queue",
    "appeals_waiting",
    "contact_address",
    "corrected_labels",
    "corrected_note",
    "deadline_reminders",
    "details_of",
    "dpo_accounts",
    "dpos_email",
    "erasure_receipt_text",
    "erasure_resume",
    "event_name",
    "evidence_build",
    "export_build",
    "export_document",
    "export_download",
    "export_members",
    "export_open",
    "export_seal",
    "failure_code_of",
    "kept_categories",
    "legal_hold_lift_and_resume",
    "model_name",
    "rectifiable_field",
    "rectifiable_fields",
    "rectification_apply",
    "request_by_email",
    "request_by_email_finish",
    "request_complete",
    "request_extend",
    "request_fail",
    "request_fulfil",
    "request_note_add",
    "request_refuse",
    "request_resume",
    "request_retry",
    "request_submit",
    "request_trail",
    "request_verify",
    "request_wait_on_person",
    "requests_due",
    "requests_queue",
    "requests_waiting",
    "restriction_lift",
    "restriction_lift_notify",
    "restriction_lift_state",
    "subject_holds",
]

"""The rights app's pages, re-exported for urls.py and dpo_urls.py.

person: a person's own requests (signed in or by email). dpo: the DPO's queue.
appeals: appeals of refused requests (the person's and the DPO's side) and evidence PDFs."""

from qualipact.rights.views.appeals import (
    appeal,
    appeal_by_link,
    dpo_appeal,
    dpo_appeal_decide,
    dpo_appeals,
    dpo_evidence,
)
from qualipact.rights.views.dpo import (
    hold_lift,
    holds,
    queue,
    request_action,
    request_detail,
    restriction_lift,
)
from qualipact.rights.views.person import (
    by_email,
    child,
    detail,
    download,
    mine,
    status,
    submitted,
    verify,
)

__all__ = [
    "appeal",
    "appeal_by_link",
    "by_email",
    "child",
    "detail",
    "download",
    "dpo_appeal",
    "dpo_appeal_decide",
    "dpo_appeals",
    "dpo_evidence",
    "hold_lift",
    "holds",
    "mine",
    "queue",
    "request_action",
    "request_detail",
    "restriction_lift",
    "status",
    "submitted",
    "verify",
]

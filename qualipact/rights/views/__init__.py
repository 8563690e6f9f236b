"""The rights app's pages, re-exported for urls.py and dpo_urls.py.

person: a person's own requests (signed in or by email). dpo: the DPO's queue."""

from qualipact.rights.views.dpo import (
    hold_lift,
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
    "by_email",
    "child",
    "detail",
    "download",
    "hold_lift",
    "mine",
    "queue",
    "request_action",
    "request_detail",
    "restriction_lift",
    "status",
    "submitted",
    "verify",
]

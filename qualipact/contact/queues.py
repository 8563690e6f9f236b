"""Who handles a contact-form message, and for which purpose.

A general question goes to the support queue, worked by support agents for customer
support; a privacy request or a complaint goes to the Data Protection Officer's queue,
handled for answering the person's rights (GDPR Art. 38(4): people may contact the DPO
on every issue about their data; Art. 77 complaints). A staff member sees a queue only
through the role it names, and only the fields the registry declares for its purpose
(policy §4: access only for those who need it; Art. 5(1)(c) data minimisation).
"""

from __future__ import annotations

from dataclasses import dataclass

from qualipact.contact.models import QUEUE_BY_KIND, Inquiry
from qualipact.web.roles import Role


@dataclass(frozen=True)
class QueueRule:
    """One queue: the `role` that works it, the `purpose` (a `privacy.purposes` code) its
    messages are read for, and what the staff console calls it (`title`)."""

    queue: Inquiry.Queue
    role: Role
    purpose: str
    title: str


QUEUES: dict[str, QueueRule] = {
    Inquiry.Queue.SUPPORT: QueueRule(
        Inquiry.Queue.SUPPORT, Role.SUPPORT_AGENT, "customer_support", "Support inbox"
    ),
    Inquiry.Queue.DPO: QueueRule(
        Inquiry.Queue.DPO, Role.DPO, "data_subject_rights", "Messages to the DPO"
    ),
}


def queue_of_kind(kind: str) -> QueueRule:
    """The queue a message of `kind` (an `Inquiry.Kind` value) goes to. KeyError for an
    unknown kind."""
    return QUEUES[QUEUE_BY_KIND[kind]]

"""The contact app's staff pages in the console (qualipact.web.console): one inbox per
queue, each with what waits in it for the person."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from qualipact.contact.queues import QUEUES, QueueRule
from qualipact.contact.selectors import Show, inquiry_inbox_counts
from qualipact.web.console import StaffPage, Waiting, staff_page_register

DESCRIPTIONS = {
    "support": "Questions sent through the contact form: take one, answer it, close it.",
    "dpo": "Privacy requests and complaints sent through the contact form.",
}
SECTIONS = {"support": "Support", "dpo": "Data protection"}


def _waiting(rule: QueueRule) -> Callable[[Any], list[Waiting]]:
    def waiting(user: Any) -> list[Waiting]:
        counts = inquiry_inbox_counts(queue=rule.queue, user=user)
        inbox = reverse(f"contact:staff_{rule.queue}_inbox")
        return [
            Waiting("unassigned", counts.unassigned, url=f"{inbox}?show={Show.UNASSIGNED}"),
            Waiting("assigned to you", counts.mine, url=f"{inbox}?show={Show.MINE}"),
        ]

    return waiting


for rule in QUEUES.values():
    staff_page_register(
        StaffPage(
            title=rule.title,
            url_name=f"contact:staff_{rule.queue}_inbox",
            description=DESCRIPTIONS[rule.queue],
            roles=frozenset({rule.role}),
            section=SECTIONS[rule.queue],
            waiting=_waiting(rule),
            # A message's page is the support app's ticket page (named, not imported).
            reaches=(f"support:staff_{rule.queue}_ticket",),
        )
    )

"""The support app's staff pages in the console (qualipact.web.console): the DPO's
complaints, with what is due within 7 days and what is overdue. A ticket's page is reached
from its queue's inbox (the contact app's console entries)."""

from typing import Any

from django.urls import reverse

from qualipact.support.selectors import ComplaintFilter, complaint_counts
from qualipact.web.console import StaffPage, Waiting, staff_page_register
from qualipact.web.roles import Role


def _complaints_waiting(user: Any) -> list[Waiting]:
    counts = complaint_counts()
    page = reverse("support:staff_complaints")
    return [
        Waiting("due within 7 days", counts.week, url=f"{page}?show={ComplaintFilter.WEEK}"),
        Waiting(
            "overdue", counts.overdue, urgent=True, url=f"{page}?show={ComplaintFilter.OVERDUE}"
        ),
    ]


staff_page_register(
    StaffPage(
        title="Complaints",
        url_name="support:staff_complaints",
        description="Complaints and their deadlines: acknowledge within 7 days, answer "
        "within one month, record the outcome.",
        roles=frozenset({Role.DPO}),
        section="Data protection",
        waiting=_complaints_waiting,
        reaches=("support:staff_dpo_ticket",),
    )
)

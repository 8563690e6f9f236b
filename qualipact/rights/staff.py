"""The rights app's staff pages in the console (qualipact.web.console)."""

from django.urls import reverse

from qualipact.rights.services.appeals import DUE_WITHIN_DAYS as APPEAL_DUE_DAYS
from qualipact.rights.services.appeals import AppealFilter, appeals_waiting
from qualipact.rights.services.dpo import DUE_WITHIN_DAYS, DueFilter, requests_waiting
from qualipact.web.console import StaffPage, Waiting, staff_page_register
from qualipact.web.roles import Role


def _waiting(user: object) -> list[Waiting]:
    week, overdue = requests_waiting()
    queue = reverse("rights:dpo_queue")
    return [
        Waiting(f"due within {DUE_WITHIN_DAYS} days", week, url=f"{queue}?due={DueFilter.WEEK}"),
        Waiting("overdue", overdue, urgent=True, url=f"{queue}?due={DueFilter.OVERDUE}"),
    ]


staff_page_register(
    StaffPage(
        title="Data-subject requests",
        url_name="rights:dpo_queue",
        description="Access, erasure, rectification and the other rights, each with its deadline.",
        roles=frozenset({Role.DPO}),
        section="Data protection",
        waiting=_waiting,
        reaches=("rights:dpo_request",),
    )
)


def _appeals_waiting(user: object) -> list[Waiting]:
    soon, overdue = appeals_waiting()
    page = reverse("rights:dpo_appeals")
    return [
        Waiting(
            f"appeals due within {APPEAL_DUE_DAYS} days",
            soon,
            url=f"{page}?which={AppealFilter.DUE}",
        ),
        Waiting(
            "appeals overdue", overdue, urgent=True, url=f"{page}?which={AppealFilter.OVERDUE}"
        ),
    ]


staff_page_register(
    StaffPage(
        title="Appeals of refused requests",
        url_name="rights:dpo_appeals",
        description="People who disagree with a refusal; a DPO who did not refuse decides "
        "within 60 days.",
        roles=frozenset({Role.DPO}),
        section="Data protection",
        waiting=_appeals_waiting,
        reaches=("rights:dpo_appeal",),
    )
)


staff_page_register(
    StaffPage(
        title="Legal holds in force",
        url_name="rights:dpo_holds",
        description="Data kept despite erasure or retention (Art 17(3)), each with the "
        "person's request, where it is lifted.",
        roles=frozenset({Role.DPO}),
        section="Data protection",
    )
)

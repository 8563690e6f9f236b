"""The back office's own staff pages in the console (qualipact.web.console).

Each part registers its pages below, in its own block: staff and roles
(Administration), the DPO dashboard (Data protection), and security (Security).
"""

from django.urls import reverse

from qualipact.backoffice.access import ALERT_DAYS, access_alerts_count
from qualipact.backoffice.selectors import invites_waiting_count
from qualipact.web.console import StaffPage, Waiting, staff_page_register
from qualipact.web.roles import Role

# -- staff and roles ------------------------------------------------------------------


def _invitations_waiting(user: object) -> list[Waiting]:
    url = reverse("backoffice:staff_list") + "#invitations"
    return [Waiting("pending invitations", invites_waiting_count(), url=url)]


staff_page_register(
    StaffPage(
        title="Staff and roles",
        url_name="backoffice:staff_list",
        description="Who works here and in which roles: invite staff, change roles, end access.",
        roles=frozenset({Role.ADMINISTRATOR}),
        section="Administration",
        waiting=_invitations_waiting,
        reaches=("backoffice:staff_member",),
    )
)

# -- the DPO dashboard ----------------------------------------------------------------

staff_page_register(
    StaffPage(
        title="Dashboard",
        url_name="backoffice:dashboard",
        description=(
            "Requests by kind and status, deadlines, time to answer, complaints, legal "
            "holds and consent, as charts with their numbers."
        ),
        roles=frozenset({Role.DPO}),
        section="Data protection",
    )
)


# -- security: access alerts ----------------------------------------------------------


def _alerts_waiting(user: object) -> list[Waiting]:
    count = access_alerts_count()
    return [Waiting(f"access alerts in the last {ALERT_DAYS} days", count, urgent=count > 0)]


staff_page_register(
    StaffPage(
        title="Security: staff access",
        url_name="backoffice:security",
        description="Alerts on bulk access to personal data, and every recent staff access.",
        roles=frozenset({Role.SECURITY_OFFICER}),
        section="Security",
        waiting=_alerts_waiting,
    )
)

"""The back office's own staff pages in the console (qualipact.web.console).

Each part registers its pages below, in its own block: staff and roles
(Administration), the DPO dashboard (Data protection), and security (Security).
"""

from qualipact.web.console import StaffPage, Waiting, staff_page_register  # noqa: F401
from qualipact.web.roles import Role

# -- staff and roles ------------------------------------------------------------------


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

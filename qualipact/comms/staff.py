"""The comms app's staff pages in the console (qualipact.web.console)."""

from qualipact.web.console import StaffPage, staff_page_register
from qualipact.web.roles import Role

staff_page_register(
    StaffPage(
        title="Newsletters",
        url_name="comms:staff_newsletters",
        description="Write a newsletter and send it to the people who consented.",
        roles=frozenset({Role.ADMINISTRATOR}),
        section="Communication",
        reaches=("comms:staff_newsletter_sent",),
    )
)

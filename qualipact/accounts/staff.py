"""The accounts app's staff pages in the console (qualipact.web.console)."""

from qualipact.web.console import StaffPage, staff_page_register
from qualipact.web.roles import Role

staff_page_register(
    StaffPage(
        title="Underage accounts",
        url_name="accounts:staff_underage",
        description="A report that an account belongs to a child under 14: check it, then erase.",
        roles=frozenset({Role.DPO}),
        section="Data protection",
    )
)

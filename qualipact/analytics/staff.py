"""The analytics app's staff pages in the console (qualipact.web.console)."""

from qualipact.web.console import StaffPage, staff_page_register

# Aggregates only, k-anonymous: open to every staff member.
staff_page_register(
    StaffPage(
        title="Site statistics",
        url_name="analytics:dashboard",
        description="Cookieless page statistics, aggregated only.",
        section="Site",
    )
)

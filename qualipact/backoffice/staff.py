"""The back office's own staff pages in the console (qualipact.web.console).

Each part registers its pages below, in its own block: staff and roles
(Administration), the DPO dashboard (Data protection), and security (Security).
"""

from qualipact.web.console import StaffPage, Waiting, staff_page_register  # noqa: F401
from qualipact.web.roles import Role  # noqa: F401

# -- staff and roles ------------------------------------------------------------------


# -- the DPO dashboard ----------------------------------------------------------------


# -- security: access alerts ----------------------------------------------------------

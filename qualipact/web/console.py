"""The staff console's table of contents: every app declares its staff pages here.

Each app lists its staff pages in its own `staff.py` (autodiscovered by the backoffice
app, like `privacy.py`), with the roles that may open them and, optionally, a count of
what waits for the person ("3 requests due within 7 days"). The console at `/staff/`
shows each staff member the pages their roles allow, so no staff page is reachable only
by knowing its URL; a test checks that every staff URL the resolver knows is either
listed here or linked from a page that is.

The registry lives on the ground floor because every feature app declares into it and
the backoffice app reads it; neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qualipact.web.roles import ALL_ROLES, Role


@dataclass(frozen=True)
class Waiting:
    """One count on the console: `count` things described by `label` ("requests due
    within 7 days"); `urgent` marks overdue work (shown in red); `url` narrows the page
    to those things when given."""

    label: str
    count: int
    urgent: bool = False
    url: str = ""


@dataclass(frozen=True)
class StaffPage:
    """One staff page in the console: `url_name` is reversed with no arguments; `roles`
    must equal the roles the view itself lets in (a test compares them)."""

    title: str
    url_name: str
    description: str
    roles: frozenset[Role] = ALL_ROLES
    section: str = "Work"
    waiting: Callable[[Any], list[Waiting]] | None = field(default=None, compare=False)
    # Further URL names reached from this page by links (a request from the queue);
    # the console test follows them.
    reaches: tuple[str, ...] = ()


_PAGES: dict[str, StaffPage] = {}


def staff_page_register(page: StaffPage) -> StaffPage:
    """Add `page` to the console (again under the same `url_name` replaces it)."""
    _PAGES[page.url_name] = page
    return page


def staff_pages() -> list[StaffPage]:
    """Every registered page, by section then title."""
    return sorted(_PAGES.values(), key=lambda page: (page.section, page.title))


def staff_pages_for(roles: frozenset[Role]) -> list[StaffPage]:
    """The pages a staff member holding `roles` may open."""
    return [page for page in staff_pages() if page.roles is ALL_ROLES or page.roles & roles]

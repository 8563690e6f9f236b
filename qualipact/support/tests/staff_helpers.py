"""Shared pieces of the staff tests: tickets opened as the contact form opens them, and the
staff who work them."""

from __future__ import annotations

from conftest import PERSONAS
from qualipact.contact.tests.conftest import staff_member
from qualipact.support.services.tickets import ticket_open
from qualipact.web.roles import Role

__all__ = ["agent_and_dpo", "complaint_from", "question_from", "staff_member"]


def question_from(name: str = "alice"):
    """A general question of the persona `name`, as a ticket (support queue)."""
    return ticket_open(kind="general", **PERSONAS[name])


def complaint_from(name: str = "bob", *, country: str = "FR"):
    """A complaint of the persona `name` who lives in `country` (DPO's queue)."""
    return ticket_open(kind="complaint", country=country, **PERSONAS[name])


def agent_and_dpo():
    return staff_member("sam", Role.SUPPORT_AGENT), staff_member("dora", Role.DPO)

"""Kept for existing imports: the role helpers live in `qualipact.web.roles`."""

from __future__ import annotations

from qualipact.web.roles import STRONG_FACTORS, has_mfa, staff_required

__all__ = ["STRONG_FACTORS", "has_mfa", "staff_required"]

"""Signed-in sessions: recorded at sign-in, listed and ended."""

from __future__ import annotations

from qualipact.privacy.models import DataSubject


def sessions_end_all(*, subject: DataSubject, reason: str) -> int:
    """End every session of the subject: delete Django's session rows and mark ours ended."""
    raise NotImplementedError

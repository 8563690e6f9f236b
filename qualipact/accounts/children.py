"""Children below the age threshold and their parents' consent. (Being completed.)"""

from __future__ import annotations

from qualipact.accounts.models import ParentalConsent, User


def parental_consent_request(*, child: User, parent_email: str) -> ParentalConsent:
    raise NotImplementedError

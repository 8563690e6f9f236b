"""The person's own choice "Email me about my account" (`Preferences.channel_email`).

Registered as a purpose-enforcement rule by AccountsConfig.ready(): while it is off,
optional notices (purpose `service_notifications`, such as a sign-in from a new device)
are refused for that person, per person and as a set. The outbox decides every email by
its purpose through enforcement, so no caller checks the choice itself; messages the
person asked for or the law requires have other purposes and still go (see
`qualipact.comms.services.REQUIRED_PURPOSES`).
"""

from __future__ import annotations

from django.db.models import Q

from qualipact.accounts.models import Preferences
from qualipact.privacy import enforcement
from qualipact.privacy.enforcement import Exclusion
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import Purpose

RULE_NAME = "account_email_choice"
OPTIONAL_NOTICES = "service_notifications"


class EmailChoiceRule:
    """No optional notices to a person who turned "Email me about my account" off."""

    def refusal(self, subject: DataSubject, purpose: Purpose) -> str | None:
        if purpose.code != OPTIONAL_NOTICES:
            return None
        off = Preferences.objects.filter(subject_id=subject.pk, channel_email=False).exists()
        return "email_off" if off else None

    def exclusion(self, purpose: Purpose) -> Exclusion:
        if purpose.code != OPTIONAL_NOTICES:
            return None
        return Q(account_preferences__channel_email=False)


def register() -> None:
    enforcement.rule_register(RULE_NAME, EmailChoiceRule())

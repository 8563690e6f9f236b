"""Who a request comes from, for the purpose check: the person, resolved once."""

from __future__ import annotations

from django.http import HttpRequest

from qualipact.privacy.models import DataSubject


def request_subject(request: HttpRequest) -> DataSubject | None:
    """The signed-in person's data subject, or None for an anonymous visitor.

    Pass it to `privacy.enforcement.may_process`, which decides for a visitor too: a
    feature never decides from a request header or a session flag by itself.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    subject: DataSubject | None = getattr(user, "subject", None)
    return subject

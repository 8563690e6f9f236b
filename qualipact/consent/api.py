"""Preference centre API. A person without an account sends the token from their email
link in `Authorization: Bearer <token>`, never in the URL; a signed-in person is known by
their session (cross-site writes are refused site-wide by CrossOriginProtectionMiddleware,
so Django's cookie-based CSRF check is not needed)."""

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer, SessionAuth

from qualipact.consent import selectors
from qualipact.consent.models import Channel
from qualipact.consent.services import preference_change
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import DataSubject


class PreferenceLinkAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> selectors.PreferenceAccess:
        # An invalid link raises InvalidLink: the API answers 401 with code invalid_link.
        return selectors.preference_access(token)


class SignedInAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> DataSubject | None:
        user = request.user
        return user.subject if user.is_authenticated else None


router = Router(auth=[PreferenceLinkAuth(), SignedInAuth(csrf=False)], tags=["preferences"])


class WordingOut(Schema):
    sha256: str
    text: str


class PurposeOut(Schema):
    purpose: str
    label: str
    legal_basis: str
    basis_in_plain_words: str
    choice: Literal["consent", "objection", "none"]
    active: bool
    granted: bool
    objected: bool
    needs_renewal: bool
    wording: WordingOut | None


class EventOut(Schema):
    occurred_at: str
    purpose: str
    action: str
    channel: str
    policy_version: int


class PreferencesOut(Schema):
    purposes: list[PurposeOut]
    history: list[EventOut]


class ChangeIn(Schema):
    purpose: str
    action: Literal["grant", "withdraw", "object", "withdraw_objection"]
    wording_sha256: str = ""


def _overview(subject: DataSubject) -> PreferencesOut:
    purposes = [
        PurposeOut(
            purpose=c.purpose.code,
            label=c.purpose.label,
            legal_basis=str(c.purpose.legal_basis),
            basis_in_plain_words=c.basis_in_plain_words,
            choice="consent" if c.is_consent else "objection" if c.can_object else "none",
            active=c.active,
            granted=c.granted,
            objected=c.objected,
            needs_renewal=c.needs_renewal,
            wording=WordingOut(sha256=c.wording.sha256, text=c.wording.text)
            if c.is_consent and c.wording
            else None,
        )
        for c in selectors.consent_overview(subject)
    ]
    history = [
        EventOut(
            occurred_at=e.occurred_at.isoformat(),
            purpose=e.purpose,
            action=e.action,
            channel=e.channel,
            policy_version=e.policy_version,
        )
        for e in selectors.consent_history(subject)
    ]
    return PreferencesOut(purposes=purposes, history=history)


def _access(request: HttpRequest) -> selectors.PreferenceAccess:
    """A link's rights (it may give consent only while fresh), or the signed-in person's."""
    auth = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, selectors.PreferenceAccess):
        return auth
    return selectors.PreferenceAccess(subject=auth)


@router.get("", response=PreferencesOut, summary="Every purpose, its basis and my choices")
def preferences_get(request: HttpRequest) -> PreferencesOut:
    return _overview(_access(request).subject)


@router.post(
    "",
    response=PreferencesOut,
    summary="Give or withdraw consent, or object",
    description=(
        "A link from a bulk email may withdraw consent and object; giving consent (or taking "
        "back an objection) needs a signed-in session or a fresh link, once "
        "(403 `fresh_link_required`)."
    ),
)
def preferences_change(request: HttpRequest, change: ChangeIn) -> PreferencesOut:
    access = _access(request)
    subject = access.subject
    preference_change(
        access=access,
        purpose=change.purpose,
        action=change.action,
        wording_sha256=change.wording_sha256,
        channel=Channel.API,
        actor=Actor.subject(subject.pk),
    )
    return _overview(subject)

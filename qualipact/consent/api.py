"""Preference centre API. A person without an account sends the token from their email
link in `Authorization: Bearer <token>`, never in the URL; a signed-in person is known by
their session (cross-site writes are refused site-wide by CrossOriginProtectionMiddleware,
so Django's cookie-based CSRF check is not needed)."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import HttpBearer
from pydantic import ConfigDict, field_validator

from qualipact.consent import selectors
from qualipact.consent.models import Channel
from qualipact.consent.services import preference_change
from qualipact.privacy.audit import Actor
from qualipact.privacy.models import DataSubject
from qualipact.privacy.purposes import PURPOSES
from qualipact.web.api import SignedInAuth, error_responses


class PreferenceLinkAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> selectors.PreferenceAccess:
        # An invalid link raises InvalidLink: the API answers 401 with code invalid_link.
        return selectors.preference_access(token)


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


class ConsentEventOut(Schema):
    occurred_at: str
    purpose: str
    action: str
    channel: str
    policy_version: int


class PreferencesOut(Schema):
    purposes: list[PurposeOut]
    history: list[ConsentEventOut]


PURPOSE_ENUM: dict[str, Any] = {"enum": sorted(PURPOSES)}


class PreferenceChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=64, json_schema_extra=PURPOSE_ENUM)
    action: Literal["grant", "withdraw", "object", "withdraw_objection"]
    wording_sha256: str = Field(
        default="",
        max_length=64,
        pattern="^([0-9a-f]{64})?$",
        description="SHA-256 of the consent wording shown (from GET); empty: the current one",
    )

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, value: str) -> str:
        if value not in PURPOSES:
            raise ValueError("Unknown purpose")
        return value


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
        ConsentEventOut(
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


@router.get(
    "",
    response={200: PreferencesOut, **error_responses(401)},
    summary="Every purpose, its basis and my choices",
)
def preferences_get(request: HttpRequest) -> PreferencesOut:
    return _overview(_access(request).subject)


@router.post(
    "",
    response={200: PreferencesOut, **error_responses(400, 401, 403, 413, 422)},
    summary="Give or withdraw consent, or object",
    description=(
        "A link from a bulk email may withdraw consent and object; giving consent (or taking "
        "back an objection) needs a signed-in session or a fresh link, once "
        "(403 `fresh_link_required`)."
    ),
)
def preferences_change(request: HttpRequest, change: PreferenceChangeIn) -> PreferencesOut:
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

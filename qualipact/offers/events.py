"""The offers app's audit events: one function per event, codes 600-699.

Each function writes one event through `privacy.audit.audit_log` in the caller's
transaction and returns it. Interests and views are `personalised_offers`, positions
`location_features` (both consent, Art 6(1)(a)). Events hold ids and counts, never a
topic, an offer viewed or a position.
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import TYPE_CHECKING

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log

if TYPE_CHECKING:
    from qualipact.offers.models import BrowsingEvent, LocationFix
    from qualipact.privacy.models import AuditEvent

PERSONALISED_OFFERS = "personalised_offers"
LOCATION_FEATURES = "location_features"


class OffersCode(IntEnum):
    """Stored codes of the offers app. Never renumber; only add."""

    TOPIC_PREFERENCES_SET = 600
    OFFER_VIEW_RECORDED = 601
    LOCATION_RECORDED = 602
    LOCATION_FORGOTTEN = 603
    OFFERS_PERSONAL_DATA_SWEPT = 604  # retired: see RETENTION_SWEPT (832)


audit_codes_register(owner="offers", codes=OffersCode, span=range(600, 700))


def topic_preferences_set_event(
    *, subject_id: uuid.UUID, actor: Actor, count: int, added: int, removed: int
) -> AuditEvent:
    """600: the person's stated interests were replaced; counts of topics, not the topics."""
    return audit_log(
        code=OffersCode.TOPIC_PREFERENCES_SET,
        actor=actor,
        subject_id=subject_id,
        purpose=PERSONALISED_OFFERS,
        data={"count": count, "added": added, "removed": removed},
    )


def offer_view_recorded_event(*, event: BrowsingEvent, actor: Actor) -> AuditEvent:
    """601: a view of an offer was remembered (`event` is the browsing row)."""
    return audit_log(
        code=OffersCode.OFFER_VIEW_RECORDED,
        actor=actor,
        subject_id=event.subject_id,
        purpose=PERSONALISED_OFFERS,
        data={"event_id": str(event.pk)},
    )


def location_recorded_event(*, fix: LocationFix, actor: Actor, replaced: bool) -> AuditEvent:
    """602: a coarse location was stored (`replaced`: it took the place of an older one)."""
    return audit_log(
        code=OffersCode.LOCATION_RECORDED,
        actor=actor,
        subject_id=fix.subject_id,
        purpose=LOCATION_FEATURES,
        data={"fix_id": str(fix.pk), "method": fix.method, "replaced": replaced},
    )


def location_forgotten_event(*, subject_id: uuid.UUID, actor: Actor, deleted: int) -> AuditEvent:
    """603: every stored location of the person was deleted (`deleted` rows)."""
    return audit_log(
        code=OffersCode.LOCATION_FORGOTTEN,
        actor=actor,
        subject_id=subject_id,
        purpose=LOCATION_FEATURES,
        data={"deleted": deleted},
    )

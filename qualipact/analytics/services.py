"""Counting page views without cookies: a salted hash per visitor and day, then counts only."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from qualipact.analytics.models import DailySalt, DailyTotal, PageStat, VisitorHash
from qualipact.analytics.selectors import K_ANONYMITY

logger = logging.getLogger(__name__)

SALT_BYTES = 32


@dataclass(frozen=True)
class PageView:
    """One page view, already reduced to what the aggregates keep (see dimensions.py)."""

    path: str
    referrer_domain: str
    country: str
    browser: str


@dataclass(frozen=True)
class Rotation:
    salts: int
    visitor_hashes: int
    small_rows: int

    def __str__(self) -> str:
        return (
            f"destroyed {self.salts} salts and {self.visitor_hashes} visitor hashes, "
            f"dropped {self.small_rows} rows below k={K_ANONYMITY}"
        )


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


def visitor_hash(*, salt: bytes, ip: str, user_agent: str, host: str) -> bytes:
    """HMAC-SHA256(salt, ip | user agent | site host): the same visitor all day, never after."""
    # NUL cannot occur in an address or an HTTP header, so the fields cannot run together.
    message = "\0".join((ip, user_agent, host)).encode()
    return hmac.new(salt, message, hashlib.sha256).digest()


def counter_digest(*, salt: bytes, visitor: bytes, counter: str) -> str:
    """What a counter keeps to recognise a visitor: different per counter, so rows don't link."""
    return hmac.new(salt, visitor + b"\0" + counter.encode(), hashlib.sha256).hexdigest()


def salt_for_day(day: date) -> bytes | None:
    """The day's salt. The first request of a new day creates it and destroys older ones.

    None when a later day already has a salt: the request straddled midnight, and its
    day, closed and destroyed, must not be reopened.
    """
    salt = DailySalt.objects.filter(day=day).values_list("salt", flat=True).first()
    if salt is not None:
        return bytes(salt)
    if DailySalt.objects.filter(day__gt=day).exists():
        return None
    salt_rotate(today=day)
    row, _ = DailySalt.objects.get_or_create(
        day=day, defaults={"salt": secrets.token_bytes(SALT_BYTES)}
    )
    return bytes(row.salt)


@transaction.atomic
def salt_rotate(*, today: date) -> Rotation:
    """Close every day before `today`: destroy its salt and visitor hashes.

    Its counts are final from then on, so rows that can never be published (fewer than
    K_ANONYMITY visitors) are dropped too: they would only ever be a risk.
    """
    salts, _ = DailySalt.objects.filter(day__lt=today).delete()
    hashes, _ = VisitorHash.objects.filter(day__lt=today).delete()
    small, _ = PageStat.objects.filter(day__lt=today, visitors__lt=K_ANONYMITY).delete()
    rotation = Rotation(salts=salts, visitor_hashes=hashes, small_rows=small)
    if salts or hashes or small:
        logger.info("analytics day closed before %s: %s", today.isoformat(), rotation)
    return rotation


def pageview_count(
    *, ip: str, user_agent: str, host: str, view: PageView, day: date | None = None
) -> bool:
    """Count one view of one visitor. The address and user agent are only hashed, never kept.

    Returns False when the view was not counted because its day was already closed.
    """
    day = day or utc_today()
    salt = salt_for_day(day)
    if salt is None:
        return False
    visitor = visitor_hash(salt=salt, ip=ip, user_agent=user_agent, host=host)
    pageview_record(day=day, salt=salt, visitor=visitor, view=view)
    return True


@transaction.atomic
def pageview_record(*, day: date, salt: bytes, visitor: bytes, view: PageView) -> None:
    """Add one view to the day's total and to its page row; each counts the visitor once."""
    row_key = {
        "day": day,
        "path": view.path,
        "referrer_domain": view.referrer_domain,
        "country": view.country,
        "browser": view.browser,
    }
    row_counter = "\0".join(
        ("pagestat", view.path, view.referrer_domain, view.country, view.browser)
    )
    new_today = _first_time(
        day=day, digest=counter_digest(salt=salt, visitor=visitor, counter="day")
    )
    new_on_row = _first_time(
        day=day, digest=counter_digest(salt=salt, visitor=visitor, counter=row_counter)
    )
    # Always the total first, then the row: concurrent writers lock rows in the same order.
    _add_view(DailyTotal, {"day": day}, new_visitor=new_today)
    _add_view(PageStat, row_key, new_visitor=new_on_row)


def _first_time(*, day: date, digest: str) -> bool:
    _, created = VisitorHash.objects.get_or_create(digest=digest, defaults={"day": day})
    return created


def _add_view(
    model: type[DailyTotal] | type[PageStat], key: dict[str, object], *, new_visitor: bool
) -> None:
    """One more view (and maybe visitor) on the row with this key; the first view creates it."""
    changes = {
        "views": F("views") + 1,
        "visitors": F("visitors") + int(new_visitor),
        "updated_at": timezone.now(),
    }
    if model.objects.filter(**key).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, views=1, visitors=int(new_visitor))
    except IntegrityError:  # a concurrent first view created it in the meantime
        model.objects.filter(**key).update(**changes)

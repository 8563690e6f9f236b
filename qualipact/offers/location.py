"""Locations, made coarse before anything keeps them.

A country comes from the client address through iptocc's offline tables (no request
leaves the server). A position from the browser is rounded to two decimals, about
1.1 km of latitude and at most that of longitude, before it is stored or compared.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import iptocc

from qualipact.privacy.errors import ApplicationError

# Two decimals of a degree: 0.01° of latitude is 1.11 km.
PRECISION = Decimal("0.01")


class InvalidPosition(ApplicationError):
    code = "invalid_position"


@dataclass(frozen=True)
class Position:
    """A coarse position: both coordinates have at most two decimals."""

    latitude: Decimal
    longitude: Decimal

    def as_text(self) -> str:
        return f"{self.latitude:.2f},{self.longitude:.2f}"

    @classmethod
    def from_text(cls, text: str) -> Position:
        latitude, longitude = text.split(",")
        return cls(Decimal(latitude), Decimal(longitude))


def country_of_address(address: str) -> str:
    """The ISO country code of an IP address, or "" when unknown (private, reserved...)."""
    try:
        ipaddress.ip_address(address)
        code = iptocc.country_code(address) or ""
    except (TypeError, ValueError):
        return ""
    return code.upper() if len(code) == 2 and code.isalpha() else ""


def _coordinate(value: object, *, name: str, limit: int) -> Decimal:
    # The messages name the coordinate, never its value: that would be the position.
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidPosition(f"The {name} is not a number", {name: "not_a_number"})
    text = value.strip() if isinstance(value, str) else str(value)
    if not text or len(text) > 32:
        raise InvalidPosition(f"The {name} is not a number", {name: "not_a_number"})
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidPosition(f"The {name} is not a number", {name: "not_a_number"}) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise InvalidPosition(
            f"The {name} must be between -{limit} and {limit}", {name: "out_of_range"}
        )
    return number


def _round(number: Decimal) -> Decimal:
    rounded = number.quantize(PRECISION)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0.00"


def position_coarsened(latitude: object, longitude: object) -> Position:
    """Validate browser coordinates and drop everything below about 1 km."""
    return Position(
        _round(_coordinate(latitude, name="latitude", limit=90)),
        _round(_coordinate(longitude, name="longitude", limit=180)),
    )


def distance_km(a: Position, b_latitude: Decimal, b_longitude: Decimal) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lon1 = math.radians(a.latitude), math.radians(a.longitude)
    lat2, lon2 = math.radians(b_latitude), math.radians(b_longitude)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))

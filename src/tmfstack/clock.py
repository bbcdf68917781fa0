"""Time and identifiers, in one place so that every timestamp has the same shape."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """UTC, millisecond precision, ``Z`` suffix: sorts as text in time order."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """``moment`` (aware) in the shape of ``now_iso``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 date or date-time as an aware datetime (naive ones are UTC); None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_last = 0


def new_id() -> str:
    """A time-ordered UUID (version 7 layout: 48-bit milliseconds, then 74 random bits).

    Ids created close in time sort close together, so the (kind, id) index is appended to
    instead of being written at a random page for every create. Within one process they are
    strictly increasing (the latest of several ids made in one millisecond sorts last).
    """
    global _last
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & ((1 << 62) - 1)
    if value <= _last:
        value = _last + 1  # same millisecond: count up from the previous id
    _last = value
    return str(uuid.UUID(int=value))

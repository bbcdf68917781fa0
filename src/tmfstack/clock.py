"""Time and identifiers, in one place so that every timestamp has the same shape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def now_iso() -> str:
    """UTC, millisecond precision, ``Z`` suffix: sorts as text in time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    return str(uuid.uuid4())

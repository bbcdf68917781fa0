"""TMF event envelopes (TMF620-style v4 shape: ``timeOcurred`` as the spec spells it)."""

from __future__ import annotations

from typing import Any

from ..clock import new_id, now_iso


def envelope(event_type: str, resource: str, doc: dict[str, Any], field_path: str | None = None) -> dict[str, Any]:
    now = now_iso()
    event: dict[str, Any] = {
        "eventId": new_id(),
        "eventTime": now,
        "eventType": event_type,
        "timeOcurred": now,
        "event": {resource: doc},
    }
    if field_path:
        event["fieldPath"] = field_path
    return event

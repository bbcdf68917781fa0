"""A resource's events: written with the change, in the same transaction (the outbox).

One event row per change, in the stored shape, and one delivery per subscription that wants it,
whichever served version the subscription was registered through: ``ResourceService.listeners``
names each version's event API and the service shaping its events (a hub's ``query`` is matched
against the event as that hub will receive it; the dispatcher shapes the bytes at delivery).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ..events.envelope import envelope
from ..events.subscriptions import wanted_by
from ..tmf import Doc
from . import access

if TYPE_CHECKING:
    from .service import ResourceService
    from .unit import Unit


async def emit(svc: ResourceService, unit: Unit, change: str, doc: Doc, field_path: str | None = None) -> None:
    """Write the event and one delivery per interested subscription in the unit's transaction.

    Only the event types the spec defines for the entity are emitted; an entity for which
    the spec defines none (e.g. v4 import jobs) gets the four standard ones.
    """
    event_type = f"{svc.entity}{change}Event"
    if svc.event_types and event_type not in svc.event_types:
        # TMF633/634 v4 name one "…ChangeEvent" for attribute and state changes alike
        event_type = f"{svc.entity}ChangeEvent"
        if event_type not in svc.event_types or change not in ("AttributeValueChange", "StateChange"):
            return
    heard = [(await unit.subscriptions(api), shaper) for api, shaper in svc.listeners]
    if not any(hubs for hubs, _ in heard):
        return  # nobody listens: an event no delivery refers to would never be read
    event = envelope(event_type, svc.name, doc, field_path)
    wanted: list[str] = []
    for hubs, shaper in heard:
        if svc.isolated:  # a partner's hub hears only of what the partner may see
            hubs = [h for h in hubs if access.visible(doc, h.party)]
        if not hubs:
            continue
        # a hub's query names attributes of the events it receives: its version's shape
        shaped = event if shaper is None or not any(h.query for h in hubs) else shaper.shaped_event(event)
        wanted += wanted_by(hubs, shaped)
    if not wanted:
        return
    await unit.tx.add_event(svc.event_api, event["eventId"], event["eventType"], orjson.dumps(event), wanted)
    unit.deliveries += len(wanted)

"""What a resource order took, recorded as one TMF685 reservation (the pool members are already taken)."""

from __future__ import annotations

from ....tmf import Doc
from ...inventory import pools
from ..shared import POOLS, StepContext, stable_id


async def reserve(ctx: StepContext, taken: list[Doc], party: Doc | None) -> None:
    """Record what the order took as a TMF685 reservation (the pool members are already taken)."""
    engine, unit, order = ctx.engine, ctx.unit, ctx.order
    items = []
    found: dict[str, Doc | None] = {}
    for resource in taken:
        spec_id = (resource.get("resourceSpecification") or {}).get("id", "")
        if spec_id not in found:
            found[spec_id] = await pools.pool_of(engine, unit, spec_id)
        pool = found[spec_id]
        capacity: Doc = {"capacityDemandAmount": "1"}
        if pool:
            capacity["resourcePool"] = {"id": pool["id"], "href": pool["href"]}
        items.append(
            {
                "quantity": 1,
                "subReservationState": "completed",
                "resourceCapacity": capacity,
                "appliedCapacityAmount": {
                    "appliedDemandAmount": "1",
                    "resource": [{"id": resource["id"], "href": resource["href"], "name": resource.get("name")}],
                },
            }
        )
    body = {
        "id": stable_id(order["id"], "reservation"),
        "description": f"Resources of resource order {order['id']}",
        "relatedParty": {k: v for k, v in (party or {"id": "unknown"}).items() if k in ("id", "href", "name", "role")},
        "reservationItem": items,
        "@type": "Reservation",
    }
    reservations = engine.resource(POOLS, "reservation")
    # its before_insert would take resources again: store the record as it is
    doc = reservations.prepare_create(body, keep_id=True)
    if await reservations.read(doc["id"], unit, track=True) is None:
        doc["reservationState"] = "completed"
        await reservations.insert(unit, doc, before=False)

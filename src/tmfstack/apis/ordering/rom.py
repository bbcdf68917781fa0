"""Resource order management: TMF652 resource orders against the TMF685 pools.

The ``resourceOrder`` step takes an order from acknowledged to an end in one go (pools
answer at once): an ``add`` item takes a free resource of its ``resourceSpecification``
(the one named in ``resource.name`` when given, e.g. a chosen MSISDN) for the order's
customer; a ``delete`` item gives its ``resource`` back when it is held for the order's customer
(another customer's resource fails the item: ``pools.NotHeld``). The resources an order took are
recorded as one TMF685 ``reservation``. All or nothing: if one add cannot be served (pool
exhausted, number taken), what the order took is given back and the order fails with the
reason in ``note``. The service order named in ``externalReference`` is woken at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ...clock import now_iso
from ...engine import access
from ...store.base import REF, SqlCond
from ..inventory import pools
from .flow import (
    POOLS,
    RESOURCE_CATALOG,
    RESOURCE_ORDERING,
    SERVICE_ORDER_QUEUE,
    Doc,
    customer_of,
    end_items,
    load,
    note,
    save,
    service,
    stable_id,
    wake,
)
from .states import TERMINAL

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.unit import Unit

AUTHOR = "resource order manager"


def parent_order(order: Doc) -> str | None:
    for ext in order.get("externalReference") or []:
        if str(ext.get("entityType", "")).casefold() == "serviceorder":
            return ext.get("id")
    return None


async def _by_name(engine: Engine, unit: Unit, spec_id: str, name: str) -> str | None:
    svc = pools.resources(engine)
    conds = [SqlCond(REF + "resourceSpecification.id", "eq", (spec_id,)), SqlCond("name", "eq", (name,))]
    rows = await unit.tx.page(svc.kind, conds, [], 0, 1)
    return orjson.loads(rows[0])["id"] if rows else None


async def _outside(engine: Engine, unit: Unit, spec_id: str, name: str, how: str) -> str:
    """A resource the pools do not hold, recorded free so that ``take`` can take it; its id is
    derived from specification and name, so two orders bringing the same one clash."""
    svc = pools.resources(engine)
    id = stable_id("outside", spec_id, name)
    row = await unit.tx.get(svc.kind, id)
    if row is not None and orjson.loads(row.doc).get("resourceStatus") == pools.STANDBY:
        await svc.update(id, lambda d: {**d, "resourceStatus": pools.FREE}, unit=unit)  # brought in again
    if row is None:
        spec_svc = engine.resource(RESOURCE_CATALOG, "resourceSpecification")
        row = await unit.tx.get(spec_svc.kind, spec_id)
        spec = orjson.loads(row.doc) if row else {"id": spec_id, "href": spec_id}
        body = pools.member({"id": how}, spec, name, "LogicalResource", {"value": name})
        body["category"] = how
        await svc.insert(unit, svc.prepare_create({"id": id, **body}, keep_id=True))
    return id


async def process_resource_order(
    engine: Engine, unit: Unit, order_id: str, serves: dict[str, Doc] | None = None
) -> None:
    """``serves``: order line id → the service (id, href) its resource will serve, when the
    service order manager runs this order inline (the resource records it in the same write)."""
    orders = service(engine, RESOURCE_ORDERING, "resourceOrder")
    order = await load(unit, orders, order_id)
    if order is None or order["state"] in TERMINAL or order["state"] not in ("acknowledged", "inProgress"):
        return
    if order["state"] == "acknowledged":
        order = await save(unit, orders, {**order, "state": "inProgress", "startDate": now_iso()})
    items = order.get("orderItem") or []
    notes = order.setdefault("note", [])
    party = customer_of(order)
    reservations = service(engine, POOLS, "reservation")
    reservation_id = stable_id(order["id"], "reservation")
    holder = {"id": reservation_id, "href": reservations.href(reservation_id)}
    taken: list[Doc] = []
    failure = None
    for item in items:
        if item.get("state") in TERMINAL:
            continue
        spec_id = (item.get("resourceSpecification") or {}).get("id")
        wanted = item.get("resource") or {}
        try:
            if item.get("action") == "add":
                if not spec_id:
                    raise pools.PoolExhausted("an add item needs resourceSpecification.id")
                wanted_id = wanted.get("id") or None
                if not wanted_id and wanted.get("name"):
                    wanted_id = await _by_name(engine, unit, spec_id, str(wanted["name"]))
                    if wanted_id is None or wanted_id == stable_id("outside", spec_id, str(wanted["name"])):
                        # not ours: a ported-in number, a customer's own device (perhaps brought in again)
                        wanted_id = await _outside(engine, unit, spec_id, str(wanted["name"]), "brought in")
                elif not wanted_id and await pools.pool_of(engine, unit, spec_id) is None:
                    # no pool: the resource is made for this order (e.g. an ONT shipped with the line)
                    wanted_id = await _outside(engine, unit, spec_id, stable_id(order["id"], item["id"])[:8], "new")
                resource = await pools.take(
                    engine,
                    unit,
                    spec_id,
                    wanted=wanted_id,
                    party=party,
                    seller=access.partner_of(order),
                    holder=holder,
                    serves=(serves or {}).get(item["id"]),
                    exclude=[t["id"] for t in taken],
                )
                taken.append(resource)
                item["resource"] = {
                    "id": resource["id"],
                    "href": resource["href"],
                    "name": resource.get("name"),
                    "resourceCharacteristic": resource.get("resourceCharacteristic") or [],
                    "@referredType": resource.get("@type", "Resource"),
                }
            elif item.get("action") == "delete":
                await pools.give_back(engine, unit, wanted.get("id", ""), customer=str((party or {}).get("id") or ""))
            item["state"] = "completed"
        except (pools.PoolExhausted, pools.NotHeld) as exc:
            failure = f"item {item['id']} failed: {exc.message}"
            item["state"] = "failed"
            break
    if failure is not None:
        for resource in taken:
            await pools.give_back(engine, unit, resource["id"], holder=reservation_id)
        for item in items:
            if item.get("state") == "completed" and item.get("action") == "add":
                item["state"] = "failed"
                item.pop("resource", None)
        end_items(items, "failed", {"acknowledged", "inProgress"})
        notes.append(note(AUTHOR, f"{failure}; {len(taken)} resource(s) taken for it were given back"))
        order.update(state="failed", completionDate=now_iso())
    else:
        if taken:
            await _reserve(engine, unit, order, taken, party)
        order.update(state="completed", completionDate=now_iso())
        notes.append(note(AUTHOR, f"completed: {len(items)} item(s)"))
    await save(unit, orders, order)
    parent = parent_order(order)
    if parent:
        await wake(unit, SERVICE_ORDER_QUEUE, parent)


async def _reserve(engine: Engine, unit: Unit, order: Doc, taken: list[Doc], party: Doc | None) -> None:
    """Record what the order took as a TMF685 reservation (the pool members are already taken)."""
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
    reservations = service(engine, POOLS, "reservation")
    # its before_insert would take resources again: store the record as it is
    doc = reservations.prepare_create(body, keep_id=True)
    if await load(unit, reservations, doc["id"]) is None:
        doc["reservationState"] = "completed"
        await reservations.insert(unit, doc, before=False)


async def process_cancel(engine: Engine, unit: Unit, cancel_id: str) -> None:
    """cancelResourceOrder: an open order gives back what it took and ends cancelled."""
    cancels = service(engine, RESOURCE_ORDERING, "cancelResourceOrder")
    cancel = await load(unit, cancels, cancel_id)
    if cancel is None or cancel["state"] in ("done", "terminatedWithError"):
        return
    orders = service(engine, RESOURCE_ORDERING, "resourceOrder")
    order = await load(unit, orders, (cancel.get("resourceOrder") or {}).get("id"))
    if order is None or order["state"] in TERMINAL:
        state = "terminatedWithError"
        reason = "the resource order does not exist" if order is None else f"the resource order is {order['state']}"
    else:
        holder = stable_id(order["id"], "reservation")  # what this order took, not who holds it now
        for item in order.get("orderItem") or []:
            if item.get("state") == "completed" and item.get("action") == "add":
                await pools.give_back(engine, unit, (item.get("resource") or {}).get("id", ""), holder=holder)
        for step in ("assessingCancellation", "pendingCancellation"):
            order = await save(unit, orders, {**order, "state": step})
        end_items(order.get("orderItem") or [], "cancelled")
        order.update(state="cancelled", completionDate=now_iso())
        order.setdefault("note", []).append(note(AUTHOR, f"cancelled by {cancel_id}"))
        await save(unit, orders, order)
        state, reason = "done", ""
        parent = parent_order(order)
        if parent:
            await wake(unit, SERVICE_ORDER_QUEUE, parent)
    cancel["state"] = state
    if state == "done":
        cancel["effectiveCancellationDate"] = now_iso()
    elif reason:
        cancel["cancellationReason"] = f"{cancel.get('cancellationReason') or ''} [refused: {reason}]".strip()
    await save(unit, cancels, cancel)

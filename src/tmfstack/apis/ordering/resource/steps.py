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

from ....clock import now_iso
from ....engine import access
from ....tmf import Doc
from ...catalog.view import CatalogView
from ...documents import customer_of
from ...inventory import pools
from ..shared import (
    POOLS,
    RESOURCE_ORDERING,
    SERVICE_ORDER_QUEUE,
    StepContext,
    end_items,
    note,
    save,
    stable_id,
    wake,
)
from ..states import TERMINAL
from .reserve import reserve

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.unit import Unit

AUTHOR = "resource order manager"


def parent_order(order: Doc) -> str | None:
    for ext in order.get("externalReference") or []:
        if str(ext.get("entityType", "")).casefold() == "serviceorder":
            return ext.get("id")
    return None


async def _by_name(ctx: StepContext, spec_id: str, name: str) -> str | None:
    found = await pools.resources(ctx.engine).first({"resourceSpecification.id": spec_id, "name": name}, ctx.unit)
    return found["id"] if found else None


async def _outside(ctx: StepContext, spec_id: str, name: str, how: str) -> str:
    """A resource the pools do not hold, recorded free so that ``take`` can take it; its id is
    derived from specification and name, so two orders bringing the same one clash."""
    svc, unit = pools.resources(ctx.engine), ctx.unit
    id = stable_id("outside", spec_id, name)
    found = await svc.read(id, unit)
    if found is not None and found.get("resourceStatus") == pools.STANDBY:
        await svc.update(id, lambda d: {**d, "resourceStatus": pools.FREE}, unit=unit)  # brought in again
    if found is None:
        spec = await ctx.view.resource_spec(spec_id) or {"id": spec_id, "href": spec_id}
        body = pools.member({"id": how}, spec, name, "LogicalResource", {"value": name})
        body["category"] = how
        await svc.insert(unit, svc.prepare_create({"id": id, **body}, keep_id=True))
    return id


async def process_resource_order(
    engine: Engine, unit: Unit, order_id: str, serves: dict[str, Doc] | None = None
) -> None:
    """``serves``: order line id → the service (id, href) its resource will serve, when the
    service order manager runs this order inline (the resource records it in the same write)."""
    orders = engine.resource(RESOURCE_ORDERING, "resourceOrder")
    order = await orders.read(order_id, unit, track=True)
    if order is None or order["state"] in TERMINAL or order["state"] not in ("acknowledged", "inProgress"):
        return
    if order["state"] == "acknowledged":
        order = await save(unit, orders, {**order, "state": "inProgress", "startDate": now_iso()})
    ctx = StepContext(engine, unit, order, CatalogView(engine, unit))
    items = order.get("orderItem") or []
    notes = order.setdefault("note", [])
    party = customer_of(order)
    reservations = engine.resource(POOLS, "reservation")
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
                    wanted_id = await _by_name(ctx, spec_id, str(wanted["name"]))
                    if wanted_id is None or wanted_id == stable_id("outside", spec_id, str(wanted["name"])):
                        # not ours: a ported-in number, a customer's own device (perhaps brought in again)
                        wanted_id = await _outside(ctx, spec_id, str(wanted["name"]), "brought in")
                elif not wanted_id and await pools.pool_of(engine, unit, spec_id) is None:
                    # no pool: the resource is made for this order (e.g. an ONT shipped with the line)
                    wanted_id = await _outside(ctx, spec_id, stable_id(order["id"], item["id"])[:8], "new")
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
            await reserve(ctx, taken, party)
        order.update(state="completed", completionDate=now_iso())
        notes.append(note(AUTHOR, f"completed: {len(items)} item(s)"))
    await save(unit, orders, order)
    parent = parent_order(order)
    if parent:
        await wake(unit, SERVICE_ORDER_QUEUE, parent)

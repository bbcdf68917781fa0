"""Service order management: TMF641 service orders down to resources and activations.

The ``serviceOrder`` step, for one order, does the next thing its state calls for:

- acknowledged: check each item (specification known; the service to modify or delete in
  TMF638) → rejected with ``errorMessage``, or inProgress;
- inProgress: run each item whose dependencies (``serviceOrderItemRelationship``
  "dependency") completed; roll the items up (completed / failed / partial, or held).

An ``add`` item designs its CFS and the RFS it relies on in TMF638 (``designed``), asks a
TMF652 resource order for the RFS's resources, puts the RFS ``reserved`` with their
``supportingResource``, requests each RFS's activation (TMF640) and, when all are done,
makes the RFS and the CFS ``active``. ``modify`` requests the changed characteristics
(mapped to each RFS) or the new state (inactive = suspended); ``delete`` requests
termination, then gives the resources back. Each phase is recognised from what exists, so
a step replayed after a crash continues where the committed state is.

A failed activation fails the item and compensates (resources given back, services
terminated), or, with ``activation_failure = "hold"``, holds the item and the order for an
operator who PATCHes the order back to inProgress (retry) or cancels it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....clock import now_iso
from ....tmf import Doc
from ...catalog.view import CatalogView
from ..shared import (
    CANCEL_SERVICE_ORDER_QUEUE,
    SERVICE_ORDER_QUEUE,
    SERVICE_ORDERING,
    StepContext,
    end_items,
    note,
    order_outcome,
    save,
    wake_cancels,
)
from ..states import ITEM_TERMINAL, TERMINAL
from .add import add
from .cancel import resume_held
from .change import delete, modify, no_change
from .common import (
    AUTHOR,
    WAITING,
    Result,
    error,
    inventory,
    wake_parent,
)

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.unit import Unit


async def process_service_order(engine: Engine, unit: Unit, order_id: str, view: CatalogView | None = None) -> None:
    """One step for a service order (``view``: the caller's catalog cache, when run inline)."""
    with unit.claiming((SERVICE_ORDER_QUEUE, order_id)):  # what it causes, it looks at itself
        await _step(engine, unit, order_id, view or CatalogView(engine, unit))


async def _step(engine: Engine, unit: Unit, order_id: str, view: CatalogView) -> None:
    orders = engine.resource(SERVICE_ORDERING, "serviceOrder")
    order = await orders.read(order_id, unit, track=True)
    if order is None:
        return
    ctx = StepContext(engine, unit, order, view)
    if order["state"] == "acknowledged":
        await _accept(ctx)
    if ctx.order["state"] == "inProgress":
        if any(i.get("state") == "held" for i in ctx.order["serviceOrderItem"]):
            await resume_held(ctx)  # an operator moved the held order back to inProgress
        await _progress(ctx)
    if ctx.order["state"] in ("assessingCancellation", "pendingCancellation"):
        # a resource order it waits for ended
        cancels = ctx.svc(SERVICE_ORDERING, "cancelServiceOrder")
        await wake_cancels(unit, cancels, "serviceOrder.id", order_id, CANCEL_SERVICE_ORDER_QUEUE)


async def _accept(ctx: StepContext) -> None:
    order, problems = ctx.order, []
    for item in order.get("serviceOrderItem") or []:
        target = item.get("service") or {}
        if item["action"] == "add":
            spec_id = (target.get("serviceSpecification") or {}).get("id")
            if await ctx.view.service_spec(spec_id) is None:
                problems.append((item, "UNKNOWN_SPECIFICATION", f"service specification {spec_id!r} does not exist"))
        elif item["action"] in ("modify", "delete"):
            current = await inventory(ctx).read(target.get("id"), ctx.unit, track=True)
            if current is None:
                problems.append((item, "UNKNOWN_SERVICE", f"service {target.get('id')!r} is not in the inventory"))
            elif current.get("state") == "terminated":
                problems.append((item, "SERVICE_TERMINATED", f"service {current['id']} is terminated"))
    notes = order.setdefault("note", [])
    if problems:
        order["errorMessage"] = [error(i, order["id"], c, m) for i, c, m in problems]
        end_items(order["serviceOrderItem"], "rejected")
        order.update(state="rejected", completionDate=now_iso())
        notes.append(note(AUTHOR, "rejected: " + "; ".join(f"item {i['id']}: {m}" for i, _, m in problems)))
    else:
        end_items(order["serviceOrderItem"], "inProgress")
        order.update(state="inProgress", startDate=now_iso())
        notes.append(note(AUTHOR, "acknowledged → inProgress"))
    ctx.order = await save(ctx.unit, ctx.svc(SERVICE_ORDERING, "serviceOrder"), order)
    if order["state"] in TERMINAL:
        await wake_parent(ctx)


def _deps(item: Doc, items: dict[str, Doc]) -> list[Doc]:
    out = []
    for rel in item.get("serviceOrderItemRelationship") or []:
        if str(rel.get("relationshipType", "")).casefold() in ("dependency", "dependson"):
            link = rel.get("orderItem") or {}
            key = link.get("itemId") or link.get("id")
            target = items.get(key) if isinstance(key, str) else None
            if target is not None:
                out.append(target)
    return out


async def _progress(ctx: StepContext) -> None:
    order = ctx.order
    items = {i["id"]: i for i in order["serviceOrderItem"]}
    moved = True
    while moved:  # an item completing may let a dependent one start in the same step
        moved = False
        for item in items.values():
            if item.get("state") != "inProgress":
                continue
            deps = _deps(item, items)
            broken = [d for d in deps if d.get("state") in ITEM_TERMINAL and d.get("state") != "completed"]
            if broken:
                result = Result("failed", f"item {broken[0]['id']} it depends on is {broken[0]['state']}")
            elif any(d.get("state") != "completed" for d in deps):
                continue
            else:
                result = await HANDLERS[item["action"]](ctx, item)
            if result.state != WAITING:
                item["state"] = result.state
                moved = True
                if result.state in ("failed", "held"):
                    order.setdefault("errorMessage", []).append(
                        error(
                            item,
                            order["id"],
                            "ACTIVATION_FAILED" if result.state == "held" else "ITEM_FAILED",
                            result.reason,
                        )
                    )
                order.setdefault("note", []).append(
                    note(AUTHOR, f"item {item['id']} {result.state}: {result.reason}".rstrip(": "))
                )
    outcome = order_outcome(order["serviceOrderItem"])
    if outcome is not None and outcome != order["state"]:
        order["state"] = outcome
        if outcome in TERMINAL:
            order["completionDate"] = now_iso()
        order["note"].append(note(AUTHOR, f"inProgress → {outcome}"))
    ctx.order = await save(ctx.unit, ctx.svc(SERVICE_ORDERING, "serviceOrder"), order)
    if outcome is not None:
        await wake_parent(ctx)


HANDLERS = {"add": add, "modify": modify, "delete": delete, "noChange": no_change}

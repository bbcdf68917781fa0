"""``cancelResourceOrder``: an open resource order gives back what it took and ends cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....clock import now_iso
from ...inventory import pools
from ..shared import RESOURCE_ORDERING, SERVICE_ORDER_QUEUE, end_items, note, open_cancellation, save, stable_id, wake
from ..states import TERMINAL
from .steps import AUTHOR, parent_order

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.unit import Unit


async def process_cancel(engine: Engine, unit: Unit, cancel_id: str) -> None:
    """cancelResourceOrder: an open order gives back what it took and ends cancelled."""
    found = await open_cancellation(engine, unit, RESOURCE_ORDERING, "resourceOrder", cancel_id)
    if found is None:
        return
    cancel, order = found
    cancels = engine.resource(RESOURCE_ORDERING, "cancelResourceOrder")
    orders = engine.resource(RESOURCE_ORDERING, "resourceOrder")
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

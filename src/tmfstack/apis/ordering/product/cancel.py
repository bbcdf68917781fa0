"""``cancelProductOrder`` step: refuses (terminatedWithError) an order that already ended;
otherwise assessingCancellation → pendingCancellation → cancelled, stopping the items' work
in progress (their service orders cancelled) and undoing what was fulfilled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ....clock import now_iso
from ....engine.access import partner_of
from ....tmf import Doc
from ...catalog.view import CatalogView
from ..shared import PRODUCT_ORDERING, StepContext
from ..states import TERMINAL
from .steps import FULFILLER, note, orders_of, save_order, set_items

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.unit import Unit


async def process_cancel(engine: Engine, unit: Unit, cancel_id: str) -> None:
    cancels = engine.resource(PRODUCT_ORDERING, "cancelProductOrder")
    found_cancel = await cancels.read(cancel_id, unit)
    if found_cancel is None:
        return
    cancel: Doc = found_cancel
    if cancel["state"] in ("done", "terminatedWithError"):
        return
    order_id = (cancel.get("productOrder") or {}).get("id")
    found = await orders_of(engine).read(order_id, unit, track=True)

    async def finish(state: str, reason: str | None = None) -> None:
        def change(doc: Doc) -> Doc:
            doc["state"] = state
            if state == "done":
                doc["effectiveCancellationDate"] = now_iso()
            elif reason:
                doc["cancellationReason"] = f"{doc.get('cancellationReason') or ''} [refused: {reason}]".strip()
            return doc

        if cancel["state"] == "acknowledged":
            await cancels.update(cancel_id, lambda d: {**d, "state": "inProgress"}, unit=unit)
        await cancels.update(cancel_id, change, unit=unit)

    if found is None:
        await finish("terminatedWithError", f"product order {order_id!r} does not exist")
        return
    order: Doc = found
    previous = order["state"]
    if previous in TERMINAL or (
        previous in ("assessingCancellation", "pendingCancellation") and cancel["state"] != "inProgress"
    ):
        await finish("terminatedWithError", f"too late: the order is {previous}")
        return
    if previous in ("acknowledged", "inProgress", "pending", "held"):
        order.setdefault("note", []).append(
            note(f"{previous} → assessingCancellation: cancellation {cancel_id} requested")
        )
        order["state"] = "assessingCancellation"
        order = await save_order(engine, unit, order)
        order["note"].append(note("assessingCancellation → pendingCancellation: stopping work in progress"))
        order["state"] = "pendingCancellation"
        order = await save_order(engine, unit, order)
        if cancel["state"] == "acknowledged":
            _, raw, _ = await cancels.update(cancel_id, lambda d: {**d, "state": "inProgress"}, unit=unit)
            cancel = orjson.loads(raw)
    ctx = StepContext(engine, unit, order, CatalogView(engine, unit, partner_of(order)))
    running = False
    for item in order["productOrderItem"]:
        if item.get("state") in ("acknowledged", "inProgress", "pending", "held"):
            running |= not await FULFILLER.cancel(ctx, item)
    if running:
        return  # woken again when the service orders it cancelled end
    for item in order["productOrderItem"]:
        if item.get("state") == "completed":
            await FULFILLER.compensate(ctx, item)
    set_items(order["productOrderItem"], "cancelled", only={"acknowledged", "inProgress", "pending", "held"})
    order["state"] = "cancelled"
    order["cancellationDate"] = now_iso()
    if cancel.get("cancellationReason"):
        order["cancellationReason"] = cancel["cancellationReason"]
    order["note"].append(note("pendingCancellation → cancelled"))
    await save_order(engine, unit, order)
    await finish("done")

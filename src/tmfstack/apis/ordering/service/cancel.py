"""A held service order released (failed activations requested again) and ``cancelServiceOrder``:
open resource orders cancelled, items compensated, the order ended ``cancelled``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....clock import now_iso
from ....tmf import Doc, ref
from ...activation.interface import request_again
from ...catalog.view import CatalogView
from ..shared import (
    RESOURCE_ORDERING,
    SERVICE_ORDERING,
    StepContext,
    end_items,
    ensure,
    note,
    open_cancellation,
    save,
    stable_id,
)
from ..states import ITEM_TERMINAL, TERMINAL
from .activate import activation_status
from .add import undo_add
from .common import (
    AUTHOR,
    CANCELLING,
    activations,
    inventory,
    resource_orders,
    supporting_rfs,
    wake_parent,
)
from .resources import attach_resources

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.unit import Unit


async def resume_held(ctx: StepContext) -> None:
    """The operator released a held order: request the failed activations again."""
    for item in ctx.order["serviceOrderItem"]:
        if item.get("state") != "held":
            continue
        cfs = await inventory(ctx).read((item.get("service") or {}).get("id"), ctx.unit, track=True)
        for rfs in await supporting_rfs(ctx, cfs) if cfs else []:
            activation = await activations(ctx).read(rfs["id"], ctx.unit, track=True)
            if activation is not None and (await activation_status(ctx, activation))[0] == "failed":
                await request_again(ctx.engine, ctx.unit, rfs["id"])
        item["state"] = "inProgress"
    ctx.order.setdefault("note", []).append(note(AUTHOR, "held → inProgress: failed activations requested again"))


async def undo_item(ctx: StepContext, item: Doc) -> bool:
    """Compensate one item of a cancelled order; False while its resource order is still open."""
    if item.get("action") != "add":
        return True  # a modify or delete already applied is reported, not reversed
    cfs_id = stable_id(ctx.order["id"], item["id"], "service")
    cfs = await inventory(ctx).read(cfs_id, ctx.unit, track=True)
    if cfs is None:
        return True
    rfs_docs = await supporting_rfs(ctx, cfs)
    got = await resource_orders(ctx).read(stable_id(ctx.order["id"], item["id"], "resources"), ctx.unit, track=True)
    if got is not None and got["state"] not in TERMINAL:
        return False
    if got is not None and got["state"] == "completed":
        rfs_docs = await attach_resources(ctx, rfs_docs, got)
    await undo_add(ctx, item, cfs, rfs_docs)
    return True


async def open_resource_orders(ctx: StepContext) -> list[Doc]:
    found = []
    for item in ctx.order["serviceOrderItem"]:
        for key in ("resources", "release"):
            order = await resource_orders(ctx).read(stable_id(ctx.order["id"], item["id"], key), ctx.unit, track=True)
            if order is not None and order["state"] not in TERMINAL:
                found.append(order)
    return found


async def process_cancel(engine: Engine, unit: Unit, cancel_id: str) -> None:
    """cancelServiceOrder: cancel the open resource orders, compensate the items, end cancelled."""
    found = await open_cancellation(engine, unit, SERVICE_ORDERING, "serviceOrder", cancel_id)
    if found is None:
        return
    cancel, order = found
    cancels = engine.resource(SERVICE_ORDERING, "cancelServiceOrder")
    orders = engine.resource(SERVICE_ORDERING, "serviceOrder")
    refused = None
    if order is None:
        refused = "the service order does not exist"
    elif order["state"] in TERMINAL:
        refused = f"too late: the service order is {order['state']}"
    if refused:
        cancel.update(state="terminatedWithError", completionMessage=refused)
        await save(unit, cancels, cancel)
        return
    assert order is not None
    if cancel["state"] == "accepted":
        cancel = await save(unit, cancels, {**cancel, "state": "inProgress"})
    for before, step in ((None, "assessingCancellation"), ("assessingCancellation", "pendingCancellation")):
        if order["state"] == before or (before is None and order["state"] not in CANCELLING):
            order.setdefault("note", []).append(note(AUTHOR, f"{order['state']} → {step} ({cancel_id})"))
            order = await save(unit, orders, {**order, "state": step})
    ctx = StepContext(engine, unit, order, CatalogView(engine, unit))
    open_orders = await open_resource_orders(ctx)
    for ro in open_orders:
        body = {
            "id": stable_id(ro["id"], "cancel"),
            "resourceOrder": ref(ro),
            "cancellationReason": f"service order {order['id']} cancelled",
        }
        await ensure(unit, ctx.svc(RESOURCE_ORDERING, "cancelResourceOrder"), body)
    if open_orders:
        return  # woken again when they end
    for item in order["serviceOrderItem"]:
        if item.get("state") not in ITEM_TERMINAL or item.get("state") == "completed":
            await undo_item(ctx, item)
    end_items(order["serviceOrderItem"], "cancelled", {"acknowledged", "inProgress", "pending", "held", "completed"})
    order.update(state="cancelled", cancellationDate=now_iso())
    if cancel.get("cancellationReason"):
        order["cancellationReason"] = cancel["cancellationReason"]
    order["note"].append(note(AUTHOR, "pendingCancellation → cancelled: resources given back, services terminated"))
    ctx.order = await save(unit, orders, order)
    await save(unit, cancels, {**cancel, "state": "done", "effectiveCancellationDate": now_iso()})
    await wake_parent(ctx)

"""The order manager's durable steps (task handlers), driven from committed state.

``productOrder`` step, for one order, does the next thing its state calls for:

- acknowledged: validate against the catalog and inventory; rejected (reasons in
  ``note``) or priced and moved to inProgress, items to inProgress, or pending until a
  future ``requestedStartDate`` (the step is scheduled for that time);
- inProgress: fulfil each startable item through the ``Fulfiller``, roll item states
  up, and end the order completed / failed / partial.

``cancelProductOrder`` is ``cancel.py``. Every state change appends a line to the order's
``note`` (author "order manager"), its readable history.

When a ``productOrder`` step keeps failing, the task runner parks it (``engine/tasks.py``)
and ``order_parked`` holds the order (inProgress → held; TMF622 lets no other state be
held, so an order in another state only gets the note) with a note coded
``[TASK_PARKED]``; the error itself stays with the operator (``GET /admin/tasks``), not in
what the customer reads. An operator's retry, or releasing the order (PATCH held →
inProgress), runs the step again.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from ....clock import now_iso
from ....engine.access import partner_of
from ....tmf import Doc
from ...catalog.rules import walk_items
from ...catalog.view import CatalogView
from ...qualification.interface import validate_order
from ..shared import (
    CANCEL_PRODUCT_ORDER_QUEUE,
    PRODUCT_ORDER_QUEUE,
    PRODUCT_ORDERING,
    StepContext,
    end_items,
    order_outcome,
    save,
    wake_cancels,
)
from ..shared import note as shared_note
from ..states import ITEM_TERMINAL, TERMINAL
from .decompose import ChainFulfiller
from .fulfil import Fulfiller, ItemFailed
from .pricing import price_order

if TYPE_CHECKING:
    from ....engine.core import Engine
    from ....engine.service import ResourceService
    from ....engine.unit import Unit

ORDER_QUEUE, CANCEL_QUEUE = PRODUCT_ORDER_QUEUE, CANCEL_PRODUCT_ORDER_QUEUE
AUTHOR = "order manager"

#: decomposition into service orders; products without a service chain are fulfilled directly
FULFILLER: Fulfiller = ChainFulfiller()


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def note(text: str) -> Doc:
    return shared_note(AUTHOR, text)


def orders_of(engine: Engine) -> ResourceService:
    return engine.resource(PRODUCT_ORDERING, "productOrder")


async def save_order(engine: Engine, unit: Unit, order: Doc) -> Doc:
    return await save(unit, orders_of(engine), order)


def set_items(items: list[Doc], state: str, only: set[str] | None = None) -> None:
    end_items(list(walk_items(items)), state, only)  # bundle children included


#: the code of the note an order gets when its step was parked
TASK_PARKED = "TASK_PARKED"


async def order_parked(engine: Engine, unit: Unit, order_id: str, error: str) -> None:
    order = await orders_of(engine).read(order_id, unit, track=True)
    if order is None or order["state"] in TERMINAL:
        return
    line = f"processing failed repeatedly and waits for an operator [{TASK_PARKED}]"
    if order["state"] == "inProgress":
        order["state"], line = "held", f"inProgress → held: {line}"
    order.setdefault("note", []).append(note(line))
    await save_order(engine, unit, order)


async def order_retried(engine: Engine, unit: Unit, order_id: str, text: str) -> None:
    order = await orders_of(engine).read(order_id, unit, track=True)
    if order is None or order["state"] in TERMINAL:
        return
    line = f"released by an operator for another attempt [{TASK_PARKED}]"  # who and why: the task's history
    if order["state"] == "held":
        order["state"], line = "inProgress", f"held → inProgress: {line}"
    order.setdefault("note", []).append(note(line))
    await save_order(engine, unit, order)


async def process_order(engine: Engine, unit: Unit, order_id: str) -> None:
    order = await orders_of(engine).read(order_id, unit, track=True)
    if order is None:
        return  # deleted meanwhile
    view = CatalogView(engine, unit, partner_of(order))
    if order["state"] == "acknowledged":
        order = await _decide(engine, unit, view, order)
    if order["state"] == "inProgress":
        await _progress(engine, unit, view, order)
    elif order["state"] in ("assessingCancellation", "pendingCancellation"):
        cancels = engine.resource(PRODUCT_ORDERING, "cancelProductOrder")
        await wake_cancels(
            unit, cancels, "productOrder.id", order["id"], CANCEL_QUEUE
        )  # a service order it waits for ended


async def _decide(engine: Engine, unit: Unit, view: CatalogView, order: Doc) -> Doc:
    problems = await validate_order(order, view, order.get("orderDate") or now_iso())
    notes = order.setdefault("note", [])
    if problems:
        for p in problems:
            where = f"item {p.item}: " if p.item else ""
            notes.append(note(f"rejected: {where}{p.message} [{p.code}]"))
        set_items(order["productOrderItem"], "rejected")
        order["state"] = "rejected"
        order["completionDate"] = now_iso()
        return await save_order(engine, unit, order)
    for disagreement in await price_order(order, view):
        notes.append(note(f"price check: {disagreement}"))
    start = _epoch(order.get("requestedStartDate"))
    later = start is not None and start > time.time()
    set_items(order["productOrderItem"], "pending" if later else "inProgress")
    order["state"] = "inProgress"
    when = f"; items wait for the requested start {order['requestedStartDate']}" if later else ""
    notes.append(note(f"acknowledged → inProgress: validated against the catalog{when}"))
    return await save_order(engine, unit, order)


async def _progress(engine: Engine, unit: Unit, view: CatalogView, order: Doc) -> None:
    start = _epoch(order.get("requestedStartDate"))
    if start is not None and start > time.time():
        await unit.schedule(ORDER_QUEUE, order["id"], start)
        return
    ctx = StepContext(engine, unit, order, view)
    for item in order["productOrderItem"]:
        if item.get("state") == "pending":
            item["state"] = "inProgress"
        if item.get("state") == "held":  # an operator released the held order
            await FULFILLER.resume(ctx, item)
            set_items([item], "inProgress", only={"held"})
            order.setdefault("note", []).append(note(f"item {item['id']} held → inProgress: released"))
        if item.get("state") != "inProgress":
            continue
        try:
            outcome = await FULFILLER.fulfil(ctx, item)
        except ItemFailed as exc:
            outcome = "failed"
            order.setdefault("note", []).append(note(f"item {item['id']} failed: {exc}"))
        if outcome in ITEM_TERMINAL or outcome == "held":
            set_items([item], outcome, only={"inProgress", "pending", "acknowledged"})
        if outcome == "held":
            order.setdefault("note", []).append(
                note(f"item {item['id']} held: its service order waits for an operator")
            )
    final = order_outcome(order["productOrderItem"])
    if final is not None:
        order["state"] = final
        if final in TERMINAL:
            order["completionDate"] = now_iso()
        order.setdefault("note", []).append(note(f"inProgress → {final}"))
    await save_order(engine, unit, order)

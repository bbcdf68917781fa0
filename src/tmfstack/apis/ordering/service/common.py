"""What the service order manager's modules share: the item's outcome, the services a step
reads and writes (TMF638 inventory, TMF640 activations, TMF652 resource orders), the order's
error messages, and waking the product order a service order fulfils."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ....clock import now_iso
from ....tmf import Doc
from ..shared import (
    ACTIVATION,
    PRODUCT_ORDER_QUEUE,
    RESOURCE_ORDERING,
    SERVICE_INVENTORY,
    StepContext,
    wake,
)

if TYPE_CHECKING:
    from ....engine.service import ResourceService


def inventory(ctx: StepContext) -> ResourceService:
    return ctx.svc(SERVICE_INVENTORY, "service")


def activations(ctx: StepContext) -> ResourceService:
    return ctx.svc(ACTIVATION, "service")


def resource_orders(ctx: StepContext) -> ResourceService:
    return ctx.svc(RESOURCE_ORDERING, "resourceOrder")


AUTHOR = "service order manager"
CANCELLING = frozenset({"assessingCancellation", "pendingCancellation"})
WAITING = "inProgress"


@dataclass
class Result:
    state: str  #: item state: inProgress (waiting), completed, failed, held
    reason: str = ""


def parent_order(order: Doc) -> str | None:
    """The product order a service order fulfils (its externalReference)."""
    for ext in order.get("externalReference") or []:
        if str(ext.get("externalReferenceType", "")).casefold() == "productorder":
            return ext.get("id") or ext.get("name")
    return None


def error(item: Doc | None, order_id: str, code: str, message: str) -> Doc:
    err: Doc = {"code": code, "reason": code.replace("_", " ").lower(), "message": message, "timestamp": now_iso()}
    if item is not None:
        err["serviceOrderItem"] = [{"id": item["id"], "itemId": item["id"], "serviceOrderId": order_id}]
    err["@type"] = "ServiceOrderErrorMessage"
    return err


async def wake_parent(ctx: StepContext) -> None:
    parent = parent_order(ctx.order)
    if parent:
        await wake(ctx.unit, PRODUCT_ORDER_QUEUE, parent)


async def supporting_rfs(ctx: StepContext, cfs: Doc) -> list[Doc]:
    if cfs.get("category") == "ResourceFacingService":
        return [cfs]
    docs = [await inventory(ctx).read(r["id"], ctx.unit, track=True) for r in cfs.get("supportingService") or []]
    return [d for d in docs if d is not None]


def setting(changes: Doc) -> Callable[[Doc], Doc]:
    """The update of a stored document that sets ``changes`` (a function, so each call binds its own)."""
    return lambda doc: {**doc, **changes}


async def set_state(ctx: StepContext, docs: list[Doc], state: str | None) -> None:
    for doc in docs:
        current = await inventory(ctx).read(doc["id"], ctx.unit, track=True)
        if current is None or current.get("state") == state:
            continue
        changes: Doc = {}
        if state == "active":
            changes.setdefault("startDate", current.get("startDate") or now_iso())
            changes.update(isServiceEnabled=True, hasStarted=True)
        elif state == "terminated":
            changes.update(endDate=now_iso(), isServiceEnabled=False)
        elif state == "inactive":
            changes.update(isServiceEnabled=False)
        await inventory(ctx).update(doc["id"], setting({**changes, "state": state}), unit=ctx.unit)

"""What the three order managers (product, service, resource) share.

Each manager is a durable task handler that reads an order's committed state and does
the next thing. These helpers derive the stable ids that make a replayed step create
nothing twice, save what a step read (at the version it read), keep the order's readable
history in ``note``, roll item states up to the order, and name the task queues.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from ...clock import now_iso
from ...tmf import Doc
from ..activation.interface import SETTLED_QUEUE
from .states import roll_up

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.service import ResourceService
    from ...engine.unit import Unit
    from ..catalog.view import CatalogView

_NAMESPACE = uuid.UUID("0b8a4f7e-3c1d-4e59-a6f2-9d7e1c5b2a40")

PRODUCT_ORDERING = "tmf622"
SERVICE_ORDERING = "tmf641"
RESOURCE_ORDERING = "tmf652"
SERVICE_INVENTORY = "tmf638"
RESOURCE_CATALOG = "tmf634"
ACTIVATION = "tmf640"
POOLS = "tmf685"

#: task queues (one per order type and its cancellation); activation wakes service orders
#: on the queue it publishes
SERVICE_ORDER_QUEUE = SETTLED_QUEUE
CANCEL_SERVICE_ORDER_QUEUE = "cancelServiceOrder"
RESOURCE_ORDER_QUEUE = "resourceOrder"
CANCEL_RESOURCE_ORDER_QUEUE = "cancelResourceOrder"
PRODUCT_ORDER_QUEUE = "productOrder"
CANCEL_PRODUCT_ORDER_QUEUE = "cancelProductOrder"


@dataclass
class StepContext:
    """One step of one order: its unit of work, the order as read, and the catalog it reads."""

    engine: Engine
    unit: Unit
    order: Doc
    view: CatalogView

    def svc(self, api: str, resource: str) -> ResourceService:
        return self.engine.resource(api, resource)

    async def read(self, api: str, resource: str, id: str | None) -> Doc | None:
        """A document read in the step's unit, tracked so that ``save`` finds it unchanged."""
        return await self.svc(api, resource).read(id, self.unit, track=True)


def stable_id(*parts: str) -> str:
    """The id of something a step creates, derived from what it is for (replays find it)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def note(author: str, text: str) -> Doc:
    return {"author": author, "date": now_iso(), "text": text, "@type": "Note"}


async def save(unit: Unit, svc: ResourceService, doc: Doc) -> Doc:
    """Write ``doc`` as the new state (its lifecycle is checked, events emitted); returns a copy.

    ``doc`` was built from what a tracked read returned (``read(..., track=True)``): if anyone
    changed it since (a client holding the order), the write raises ConcurrentUpdate and the
    step's whole unit is retried on fresh state instead of overwriting them (``Unit.seen``).
    """
    _, raw, _ = await svc.update(doc["id"], lambda _: doc, unit=unit)
    # a copy (the stored document is also what events and hooks were given), parsed from the stored
    # bytes: orjson in C is ~10x faster than copy.deepcopy, which cost 4 % of a chained order's CPU
    saved: Doc = orjson.loads(raw)
    return saved


async def open_cancellation(
    engine: Engine, unit: Unit, api: str, resource: str, cancel_id: str
) -> tuple[Doc, Doc | None] | None:
    """The cancellation request ``cancel_id`` of ``resource`` (an order type of ``api``) while it is
    open, and the order it names, both read for a tracked change; None once the request has ended,
    so a replayed step does nothing."""
    cancel_type = "cancel" + resource[0].upper() + resource[1:]
    cancel = await engine.resource(api, cancel_type).read(cancel_id, unit, track=True)
    if cancel is None or cancel["state"] in ("done", "terminatedWithError"):
        return None
    order_id = (cancel.get(resource) or {}).get("id")
    return cancel, await engine.resource(api, resource).read(order_id, unit, track=True)


async def ensure(unit: Unit, svc: ResourceService, body: Doc) -> tuple[Doc, bool]:
    """Create ``body`` under its stable id unless a replayed step already did; (doc, created)."""
    found = await svc.read(body["id"], unit, track=True)
    if found is not None:
        return found, False
    created, _, _ = await svc.create(body, keep_id=True, unit=unit)
    return created, True


async def wake(unit: Unit, queue: str, key: str) -> None:
    await unit.schedule(queue, key, time.time())


async def wake_cancels(unit: Unit, cancels: ResourceService, order_ref: str, order_id: str, queue: str) -> None:
    """Wake the open cancellation requests of an order (``order_ref``: their reference path to it)."""
    for cancel in await cancels.find({order_ref: order_id}, unit, limit=100):
        if cancel["state"] not in ("done", "terminatedWithError"):
            await wake(unit, queue, cancel["id"])


def end_items(items: list[Doc], state: str, only: set[str] | frozenset[str] | None = None) -> None:
    for item in items:
        if only is None or item.get("state") in only:
            item["state"] = state


def order_outcome(items: list[Doc]) -> str | None:
    """The order state its items imply: a terminal one when all ended, ``held`` as soon as one
    is held (the order waits for an operator), else None (still in progress)."""
    states = [i.get("state", "") for i in items]
    final = roll_up(states)
    if final is not None:
        return final
    return "held" if "held" in states else None

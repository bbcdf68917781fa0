"""What the three order managers (product, service, resource) share.

Each manager is a durable task handler that reads an order's committed state and does
the next thing. These helpers load and save orders inside the step's unit, derive the
stable ids that make a replayed step create nothing twice, and keep the order's
readable history in ``note``.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from ...clock import now_iso
from ...engine.access import PARTNER_ROLE
from ...store.base import REF, SqlCond
from .states import roll_up

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.service import ResourceService
    from ...engine.unit import Unit

Doc = dict[str, Any]
_NAMESPACE = uuid.UUID("0b8a4f7e-3c1d-4e59-a6f2-9d7e1c5b2a40")

SERVICE_ORDERING = "tmf641"
RESOURCE_ORDERING = "tmf652"
SERVICE_INVENTORY = "tmf638"
RESOURCE_CATALOG = "tmf634"
ACTIVATION = "tmf640"
POOLS = "tmf685"

#: task queues (one per order type and its cancellation)
SERVICE_ORDER_QUEUE = "serviceOrder"
CANCEL_SERVICE_ORDER_QUEUE = "cancelServiceOrder"
RESOURCE_ORDER_QUEUE = "resourceOrder"
CANCEL_RESOURCE_ORDER_QUEUE = "cancelResourceOrder"
PRODUCT_ORDER_QUEUE = "productOrder"
CANCEL_PRODUCT_ORDER_QUEUE = "cancelProductOrder"


def stable_id(*parts: str) -> str:
    """The id of something a step creates, derived from what it is for (replays find it)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def note(author: str, text: str) -> Doc:
    return {"author": author, "date": now_iso(), "text": text, "@type": "Note"}


def service(engine: Engine, api: str, resource: str) -> ResourceService:
    return engine.resource(api, resource)


async def load(unit: Unit, svc: ResourceService, id: str | None) -> Doc | None:
    """Read a document in the step's transaction, remembering its version for ``save``."""
    if not id:
        return None
    row = await unit.tx.get(svc.kind, id)
    if row is None:
        return None
    unit.seen[(svc.kind, id)] = row.version
    doc: Doc = orjson.loads(row.doc)
    return doc


async def save(unit: Unit, svc: ResourceService, doc: Doc) -> Doc:
    """Write ``doc`` as the new state (its lifecycle is checked, events emitted); returns a copy.

    ``doc`` was built from what ``load`` read: if anyone changed it since (a client holding
    the order), the write raises ConcurrentUpdate and the step's whole unit is retried on
    fresh state instead of overwriting them (``Unit.seen``).
    """
    _, raw, _ = await svc.update(doc["id"], lambda _: doc, unit=unit)
    saved: Doc = orjson.loads(raw)
    return saved


async def ensure(unit: Unit, svc: ResourceService, body: Doc) -> tuple[Doc, bool]:
    """Create ``body`` under its stable id unless a replayed step already did; (doc, created)."""
    found = await load(unit, svc, body["id"])
    if found is not None:
        return found, False
    created, _, _ = await svc.create(body, keep_id=True, unit=unit)
    return created, True


async def wake(unit: Unit, queue: str, key: str) -> None:
    await unit.schedule(queue, key, time.time())


def customer_of(order: Doc) -> Doc | None:
    """The ordering customer: the relatedParty with role customer, else the first relatedParty
    that is not the selling partner (``engine/access.py``: a partner never becomes its own customer)."""
    parties = [p for p in order.get("relatedParty") or [] if isinstance(p, dict)]
    for party in parties:
        if str(party.get("role", "")).casefold() == "customer":
            return party
    buyers = [p for p in parties if str(p.get("role", "")).strip().casefold() != PARTNER_ROLE.casefold()]
    return buyers[0] if buyers else None


async def wake_cancels(unit: Unit, cancels: ResourceService, order_ref: str, order_id: str, queue: str) -> None:
    """Wake the open cancellation requests of an order (``order_ref``: their reference path to it)."""
    conds = [SqlCond(REF + order_ref, "eq", (order_id,))]
    for raw in await unit.tx.page(cancels.kind, conds, [], 0, 100):
        cancel = orjson.loads(raw)
        if cancel["state"] not in ("done", "terminatedWithError"):
            await wake(unit, queue, cancel["id"])


def ref(doc: Doc, referred: str | None = None) -> Doc:
    out = {k: doc[k] for k in ("id", "href", "name") if doc.get(k) is not None}
    if referred:
        out["@referredType"] = referred
    return out


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

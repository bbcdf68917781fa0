"""Resource pools: typed stocks of TMF639 resources (numbers, SIMs, IP addresses, VLAN ids,
ports, CPE) that orders take from and give back to.

A TMF685 ``resourcePool`` names the resource specifications it holds in
``resourceCollection[].objectId``; its members are the TMF639 ``resource`` records of those
specifications. A member is free when its ``resourceStatus`` is ``available``; taking it sets
``reserved`` (usage ``active``, administratively ``unlocked``) and the customer as
``relatedParty``; giving it back restores the free state. Both are compare-and-set writes on
the resource row inside the caller's unit of work, so two orders can never hold one resource:
the second write of a concurrent pair fails and its step is retried on fresh state.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from ...errors import Conflict, Unprocessable
from ...store.base import REF, SqlCond

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.service import ResourceService
    from ...engine.unit import Unit

Doc = dict[str, Any]
INVENTORY = "/tmf-api/resourceInventoryManagement/v4"
POOLS = "/tmf-api/resourcePoolManagement/v1"
FREE, TAKEN = "available", "reserved"
_CANDIDATES = 4  #: free members read per attempt; a random pick spreads concurrent takers


class PoolExhausted(Unprocessable):
    """No free resource of the wanted specification (or the wanted one is not free)."""

    code = "POOL_EXHAUSTED"


def resources(engine: Engine) -> ResourceService:
    return engine.services[INVENTORY]["resource"]


def pools(engine: Engine) -> ResourceService:
    return engine.services[POOLS]["resourcePool"]


def pool_specs(pool: Doc) -> list[str]:
    return [c["objectId"] for c in pool.get("resourceCollection") or [] if isinstance(c.get("objectId"), str)]


async def pool_of(engine: Engine, unit: Unit, spec_id: str) -> Doc | None:
    """The pool that holds resources of ``spec_id`` (the first one, by id), if any."""
    svc = pools(engine)
    rows = await unit.tx.page(svc.kind, [SqlCond(REF + "resourceCollection.objectId", "eq", (spec_id,))], [], 0, 1)
    return orjson.loads(rows[0]) if rows else None


def _free(spec_id: str) -> list[SqlCond]:
    return [SqlCond(REF + "resourceSpecification.id", "eq", (spec_id,)), SqlCond("status", "eq", (FREE,))]


async def free_count(engine: Engine, spec_id: str) -> int:
    return await engine.store.count(resources(engine).kind, _free(spec_id))


#: categories of resources that are not pool stock (see rom._outside): given back, they rest
#: in ``standby`` instead of becoming free for anyone
OUTSIDE = frozenset({"brought in", "new"})
STANDBY = "standby"
HELD_BY, SERVES = "reservedBy", "supportsService"


def holder_of(doc: Doc) -> str | None:
    """The id of the reservation holding a resource (its ``reservedBy`` relationship)."""
    for rel in doc.get("resourceRelationship") or []:
        if rel.get("relationshipType") == HELD_BY:
            return rel.get("id")
    return None


def relate(doc: Doc, kind: str, target: Doc) -> Doc:
    """Set the resource's one relationship of ``kind`` to ``target`` (id, href), keeping the others."""
    rels = [r for r in doc.get("resourceRelationship") or [] if r.get("relationshipType") != kind]
    rels.append(
        {"relationshipType": kind, "id": target["id"], "href": target.get("href"), "@type": "ResourceRelationship"}
    )
    return {**doc, "resourceRelationship": rels}


def _taken(party: Doc | None, holder: Doc | None, serves: Doc | None = None) -> Any:
    def change(doc: Doc) -> Doc:
        if doc.get("resourceStatus") != FREE:
            raise Conflict(f"resource {doc.get('name') or doc['id']} is {doc.get('resourceStatus')}", code="TAKEN")
        doc.update(resourceStatus=TAKEN, usageState="active", administrativeState="unlocked", operationalState="enable")
        doc["relatedParty"] = [party] if party else []
        doc["resourceRelationship"] = []
        if holder:
            doc = relate(doc, HELD_BY, holder)
        return relate(doc, SERVES, serves) if serves else doc

    return change


async def take(
    engine: Engine,
    unit: Unit,
    spec_id: str,
    *,
    wanted: str | None = None,
    party: Doc | None = None,
    holder: Doc | None = None,
    serves: Doc | None = None,
    exclude: Iterable[str] = (),
) -> Doc:
    """Take one free resource of ``spec_id`` (``wanted``: that resource id) for ``party``, held by
    the reservation ``holder`` (id, href)."""
    svc = resources(engine)
    if wanted is not None:
        row = await unit.tx.get(svc.kind, wanted)
        doc = orjson.loads(row.doc) if row else None
        if doc is None or (doc.get("resourceSpecification") or {}).get("id") != spec_id:
            raise PoolExhausted(f"resource {wanted!r} is not in the pool of {spec_id}")
        if doc.get("resourceStatus") != FREE:
            raise PoolExhausted(f"{doc.get('name') or wanted} is already taken ({doc.get('resourceStatus')})")
        taken, _, _ = await svc.update(wanted, _taken(party, holder, serves), unit=unit)
        return taken
    skip = set(exclude)
    # in insertion order: the planner walks the specification's reference index, not every resource
    rows = await unit.tx.page(svc.kind, _free(spec_id), [], 0, _CANDIDATES + len(skip))
    candidates = [orjson.loads(raw) for raw in rows]
    candidates = [c for c in candidates if c["id"] not in skip]
    random.shuffle(candidates)
    for candidate in candidates:
        row = await unit.tx.get(svc.kind, candidate["id"])
        if row is None or orjson.loads(row.doc).get("resourceStatus") != FREE:
            continue
        taken, _, _ = await svc.update(candidate["id"], _taken(party, holder, serves), unit=unit)
        return taken
    pool = await pool_of(engine, unit, spec_id)
    where = f"pool {pool['id']}" if pool else "no pool"
    raise PoolExhausted(f"no free resource of specification {spec_id} ({where})")


async def give_back(engine: Engine, unit: Unit, resource_id: str, holder: str | None = None) -> bool:
    """Return a taken resource to its pool; False when it was not taken, or (``holder`` given)
    is now held by another reservation. The reservation that held it is updated: its item
    ``released``, and the reservation ``released`` once all its items are."""
    svc = resources(engine)
    row = await unit.tx.get(svc.kind, resource_id)
    current = orjson.loads(row.doc) if row else None
    if current is None or current.get("resourceStatus") != TAKEN:
        return False
    held_by = holder_of(current)
    if holder is not None and held_by != holder:
        return False

    def change(doc: Doc) -> Doc:
        status = STANDBY if doc.get("category") in OUTSIDE else FREE
        doc.update(resourceStatus=status, usageState="idle", administrativeState="locked", operationalState="enable")
        doc["relatedParty"] = []
        doc.pop("resourceRelationship", None)
        return doc

    await svc.update(resource_id, change, unit=unit)
    if held_by and held_by != holder:
        await _release_item(engine, unit, held_by, resource_id)
    return True


async def serving(engine: Engine, unit: Unit, reservation: Doc) -> list[str]:
    """Names of the reservation's resources that still serve a service (and that it still holds)."""
    svc = resources(engine)
    found = []
    for item in reservation.get("reservationItem") or []:
        for ref in (item.get("appliedCapacityAmount") or {}).get("resource") or []:
            row = await unit.tx.get(svc.kind, ref.get("id", ""))
            doc = orjson.loads(row.doc) if row else {}
            rels = doc.get("resourceRelationship") or []
            held = any(r.get("relationshipType") == HELD_BY and r.get("id") == reservation["id"] for r in rels)
            if held and any(r.get("relationshipType") == SERVES for r in rels):
                found.append(doc.get("name") or doc["id"])
    return found


async def _release_item(engine: Engine, unit: Unit, reservation_id: str, resource_id: str) -> None:
    reservations = engine.services[POOLS]["reservation"]
    row = await unit.tx.get(reservations.kind, reservation_id)
    if row is None:
        return

    def change(doc: Doc) -> Doc:
        items = doc.get("reservationItem") or []
        for item in items:
            held = (item.get("appliedCapacityAmount") or {}).get("resource") or []
            if any(r.get("id") == resource_id for r in held):
                item["subReservationState"] = "released"
        if items and all(i.get("subReservationState") == "released" for i in items):
            doc["reservationState"] = "released"
        return doc

    await reservations.update(reservation_id, change, unit=unit)


def member(pool: Doc, spec: Doc, value: str, resource_type: str, chars: dict[str, Any]) -> Doc:
    """A free pool member, as ``stock`` writes it to TMF639."""
    return {
        "name": value,
        "@type": resource_type,
        "category": pool.get("description") or pool["id"],
        "resourceSpecification": {
            "id": spec["id"],
            "href": spec["href"],
            "name": spec.get("name"),
            "@referredType": "ResourceSpecification",
        },
        "resourceCharacteristic": [{"name": k, "value": v} for k, v in chars.items()],
        "resourceStatus": FREE,
        "usageState": "idle",
        "administrativeState": "locked",
        "operationalState": "enable",
    }

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
_CANDIDATES = 8  #: free members read per attempt; a random pick spreads concurrent takers


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


def _taken(party: Doc | None, purpose: Doc | None) -> Any:
    def change(doc: Doc) -> Doc:
        if doc.get("resourceStatus") != FREE:
            raise Conflict(f"resource {doc.get('name') or doc['id']} is {doc.get('resourceStatus')}", code="TAKEN")
        doc.update(resourceStatus=TAKEN, usageState="active", administrativeState="unlocked", operationalState="enable")
        doc["relatedParty"] = [party] if party else []
        if purpose:
            # the back reference to what the resource serves (TMF639 v4 has no service ref)
            doc["resourceRelationship"] = [{"relationshipType": "supportsService", **purpose}]
        return doc

    return change


async def take(
    engine: Engine,
    unit: Unit,
    spec_id: str,
    *,
    wanted: str | None = None,
    party: Doc | None = None,
    purpose: Doc | None = None,
    exclude: Iterable[str] = (),
) -> Doc:
    """Take one free resource of ``spec_id`` (``wanted``: that resource id) for ``party``."""
    svc = resources(engine)
    if wanted is not None:
        row = await unit.tx.get(svc.kind, wanted)
        doc = orjson.loads(row.doc) if row else None
        if doc is None or (doc.get("resourceSpecification") or {}).get("id") != spec_id:
            raise PoolExhausted(f"resource {wanted!r} is not in the pool of {spec_id}")
        if doc.get("resourceStatus") != FREE:
            raise PoolExhausted(f"{doc.get('name') or wanted} is already taken ({doc.get('resourceStatus')})")
        taken, _, _ = await svc.update(wanted, _taken(party, purpose), unit=unit)
        return taken
    skip = set(exclude)
    rows = await unit.tx.page(svc.kind, _free(spec_id), [("name", False)], 0, _CANDIDATES + len(skip))
    candidates = [orjson.loads(raw) for raw in rows]
    candidates = [c for c in candidates if c["id"] not in skip]
    random.shuffle(candidates)
    for candidate in candidates:
        row = await unit.tx.get(svc.kind, candidate["id"])
        if row is None or orjson.loads(row.doc).get("resourceStatus") != FREE:
            continue
        taken, _, _ = await svc.update(candidate["id"], _taken(party, purpose), unit=unit)
        return taken
    pool = await pool_of(engine, unit, spec_id)
    where = f"pool {pool['id']}" if pool else "no pool"
    raise PoolExhausted(f"no free resource of specification {spec_id} ({where})")


async def give_back(engine: Engine, unit: Unit, resource_id: str) -> bool:
    """Return a taken resource to its pool; False when it was not taken (already given back)."""
    svc = resources(engine)
    row = await unit.tx.get(svc.kind, resource_id)
    if row is None or orjson.loads(row.doc).get("resourceStatus") != TAKEN:
        return False

    def change(doc: Doc) -> Doc:
        doc.update(resourceStatus=FREE, usageState="idle", administrativeState="locked", operationalState="enable")
        doc["relatedParty"] = []
        doc.pop("resourceRelationship", None)
        return doc

    await svc.update(resource_id, change, unit=unit)
    return True


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

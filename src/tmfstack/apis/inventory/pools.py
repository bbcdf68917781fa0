"""Resource pools: typed stocks of TMF639 resources (numbers, SIMs, IP addresses, VLAN ids,
ports, CPE) that orders take from and give back to.

A TMF685 ``resourcePool`` names the resource specifications it holds in
``resourceCollection[].objectId``; its members are the TMF639 ``resource`` records of those
specifications. A member is free when its ``resourceStatus`` is ``available``; taking it sets
``reserved`` (usage ``active``, administratively ``unlocked``) and the customer as
``relatedParty``; giving it back restores the free state. Both are compare-and-set writes on
the resource row inside the caller's unit of work, and taking first records the holding in the
store (``Tx.hold``: one row per member, its primary key refusing a second holder), so no member
is ever held twice, whatever its document says (a status changed by hand included). Members are
taken in batches (one free-list read and one holding statement per batch). Everything is read
and written through the engine's services of TMF639 and TMF685 (``engine/lookup.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ...engine import access
from ...errors import NotFound, StaleVersion, Unprocessable
from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.service import ResourceService
    from ...engine.unit import Unit

INVENTORY = "tmf639"
POOLS = "tmf685"
FREE, TAKEN = "available", "reserved"
_ROUNDS = 16  #: free-list reads before a take gives up on a pool that concurrent orders drain


class PoolExhausted(Unprocessable):
    """No free resource of the wanted specification (or the wanted one is not free)."""

    code = "POOL_EXHAUSTED"


class NotHeld(Unprocessable):
    """A resource to give back is held for another customer than the asking order's."""

    code = "RESOURCE_NOT_HELD"


def resources(engine: Engine) -> ResourceService:
    return engine.resource(INVENTORY, "resource")


def pools(engine: Engine) -> ResourceService:
    return engine.resource(POOLS, "resourcePool")


def pool_specs(pool: Doc) -> list[str]:
    return [c["objectId"] for c in pool.get("resourceCollection") or [] if isinstance(c.get("objectId"), str)]


async def pool_of(engine: Engine, unit: Unit, spec_id: str) -> Doc | None:
    """The pool that holds resources of ``spec_id`` (the first one, by id), if any."""
    return await pools(engine).first({"resourceCollection.objectId": spec_id}, unit)


def _free(spec_id: str) -> dict[str, str]:
    return {"resourceSpecification.id": spec_id, "resourceStatus": FREE}


async def free_count(engine: Engine, spec_id: str) -> int:
    return await resources(engine).count_where(_free(spec_id))


async def has_free(engine: Engine, unit: Unit, spec_id: str) -> bool:
    """Whether any resource of ``spec_id`` is free: one row read, where counting walks them all."""
    return bool(await resources(engine).find_raw(_free(spec_id), unit, limit=1))


#: categories of resources that are not pool stock (see rom._outside): given back, they rest
#: in ``standby`` instead of becoming free for anyone
OUTSIDE = frozenset({"brought in", "new"})
STANDBY = "standby"
HELD_BY, SERVES = "reservedBy", "supportsService"


def customer_id(doc: Doc) -> str:
    """The customer a resource is held for ('' for none): its one party that is not the Seller."""
    for party in doc.get("relatedParty") or []:
        if isinstance(party, dict) and str(party.get("role", "")).casefold() != access.PARTNER_ROLE.casefold():
            return str(party.get("id") or "")
    return ""


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


class _Busy(Exception):
    """A candidate was taken between the free-list read and its write: try the next one."""


def _taken(spec_id: str, wanted: bool, parties: list[Doc], holder: Doc | None, serves: Doc | None) -> Any:
    """The change that takes a resource: checked on the row as the write reads it."""

    def change(doc: Doc) -> Doc:
        if (doc.get("resourceSpecification") or {}).get("id") != spec_id:
            raise PoolExhausted(f"resource {doc['id']!r} is not in the pool of {spec_id}")
        if doc.get("resourceStatus") != FREE:
            if not wanted:
                raise _Busy
            raise PoolExhausted(f"{doc.get('name') or doc['id']} is already taken ({doc.get('resourceStatus')})")
        doc.update(resourceStatus=TAKEN, usageState="active", administrativeState="unlocked", operationalState="enable")
        doc["relatedParty"] = parties
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
    seller: str | None = None,
) -> Doc:
    """Take one free resource of ``spec_id`` (``wanted``: that resource id) for ``party``, held by
    the reservation ``holder`` (id, href); ``seller``: the partner whose order it serves."""
    if wanted is None:
        got = await take_many(engine, unit, [spec_id], 1, party=party, holder=holder, serves=serves, seller=seller)
        if got:
            return got[0]
        pool = await pool_of(engine, unit, spec_id)
        where = f"pool {pool['id']}" if pool else "no pool"
        raise PoolExhausted(f"no free resource of specification {spec_id} ({where})")
    svc = resources(engine)
    parties = _parties(party, seller)
    if await svc.hold(unit, [wanted], (holder or {}).get("id") or "", customer_id({"relatedParty": parties})):
        doc = await svc.read(wanted, unit) or {}
        raise PoolExhausted(f"{doc.get('name') or wanted} is already taken ({doc.get('resourceStatus')})")
    try:
        taken, _, _ = await svc.update(wanted, _taken(spec_id, True, parties, holder, serves), unit=unit)
    except NotFound:
        await svc.unhold(unit, [wanted])
        raise PoolExhausted(f"resource {wanted!r} is not in the pool of {spec_id}") from None
    except Exception:
        await svc.unhold(unit, [wanted])
        raise
    return taken


def _parties(party: Doc | None, seller: str | None) -> list[Doc]:
    return [*([party] if party else []), *([access.seller(seller)] if seller else [])]


async def take_many(
    engine: Engine,
    unit: Unit,
    spec_ids: list[str],
    count: int,
    *,
    party: Doc | None = None,
    holder: Doc | None = None,
    serves: Doc | None = None,
    seller: str | None = None,
) -> list[Doc]:
    """Take up to ``count`` free resources of ``spec_ids`` (in that order) for ``party``; fewer
    when the pools run out. Each round reads the free members it needs in one page (in insertion
    order: every taker waits on rows in the same sequence, so two never deadlock), records their
    holding in one statement, then writes each; members held meanwhile are skipped."""
    svc = resources(engine)
    parties = _parties(party, seller)
    holder_id, customer = (holder or {}).get("id") or "", customer_id({"relatedParty": parties})
    got: list[Doc] = []
    for spec_id in spec_ids:
        skip: set[str] = set()
        for _ in range(_ROUNDS):
            need = count - len(got)
            if need <= 0:
                return got
            free = await svc.find(_free(spec_id), unit, limit=need + len(skip))
            ids = [i for i in (doc["id"] for doc in free) if i not in skip][:need]
            if not ids:
                break
            skip.update(ids)
            refused = await svc.hold(unit, ids, holder_id, customer)
            for id in ids:
                if id in refused:
                    continue  # held although its document says free (changed by hand): not takeable
                try:
                    taken, _, _ = await svc.update(id, _taken(spec_id, False, parties, holder, serves), unit=unit)
                except (_Busy, StaleVersion):
                    await svc.unhold(unit, [id])  # another order took it since our read
                    continue
                got.append(taken)
    return got


async def give_back(
    engine: Engine, unit: Unit, resource_id: str, holder: str | None = None, customer: str | None = None
) -> bool:
    """Return a taken resource to its pool; False when it was not taken, or (``holder`` given)
    is now held by another reservation. ``customer``: the asking order's customer ('' for none),
    refused (NotHeld) when the resource is held for another. The reservation that held it is
    updated: its item ``released``, and the reservation ``released`` once all its items are."""
    released: dict[str, str | None] = {}

    def change(doc: Doc) -> Doc:
        held_by = holder_of(doc)
        if doc.get("resourceStatus") != TAKEN or (holder is not None and held_by != holder):
            return doc  # unchanged: nothing is written
        if customer is not None and customer_id(doc) != customer:
            raise NotHeld(f"resource {doc.get('name') or doc['id']} is not held for customer {customer or '(none)'}")
        released["by"] = held_by
        status = STANDBY if doc.get("category") in OUTSIDE else FREE
        doc.update(resourceStatus=status, usageState="idle", administrativeState="locked", operationalState="enable")
        doc["relatedParty"] = []
        doc.pop("resourceRelationship", None)
        return doc

    svc = resources(engine)
    try:
        await svc.update(resource_id, change, unit=unit)
    except NotFound:
        return False
    if "by" not in released:
        return False
    await svc.unhold(unit, [resource_id])
    held_by = released["by"]
    if held_by and held_by != holder:
        await _release_item(engine, unit, held_by, resource_id)
    return True


async def serving(engine: Engine, unit: Unit, reservation: Doc) -> list[str]:
    """Names of the reservation's resources that still serve a service (and that it still holds)."""
    svc = resources(engine)
    found = []
    for item in reservation.get("reservationItem") or []:
        for ref in (item.get("appliedCapacityAmount") or {}).get("resource") or []:
            doc = await svc.read(ref.get("id", ""), unit) or {}
            rels = doc.get("resourceRelationship") or []
            held = any(r.get("relationshipType") == HELD_BY and r.get("id") == reservation["id"] for r in rels)
            if held and any(r.get("relationshipType") == SERVES for r in rels):
                found.append(doc.get("name") or doc["id"])
    return found


async def _release_item(engine: Engine, unit: Unit, reservation_id: str, resource_id: str) -> None:
    reservations = engine.resource(POOLS, "reservation")

    def change(doc: Doc) -> Doc:
        items = doc.get("reservationItem") or []
        for item in items:
            held = (item.get("appliedCapacityAmount") or {}).get("resource") or []
            if any(r.get("id") == resource_id for r in held):
                item["subReservationState"] = "released"
        if items and all(i.get("subReservationState") == "released" for i in items):
            doc["reservationState"] = "released"
        return doc

    # no reservation recorded is fine (e.g. the order that took it failed before recording one)
    with suppress(NotFound):
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

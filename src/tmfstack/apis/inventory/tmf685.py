"""TMF685 Resource Pool Management v1 (``TMF685-Resource_Pool_Management-v1.0.regular.swagger.json``,
the only official file; see ``pools.py`` for what a pool is here).

- ``resourcePool``: create, patch, delete as in the file, plus GET (a pool nobody can read
  cannot be managed). ``resourceCollection[].objectId`` names the TMF634 resource
  specifications the pool holds; unknown ones are refused (422).
- ``reservation``: create takes resources now. Each ``reservationItem`` asks
  ``resourceCapacity.capacityDemandAmount`` (default: ``quantity``, else 1) resources from
  ``resourceCapacity.resourcePool``; the taken ones are listed in
  ``appliedCapacityAmount.resource`` and ``reservationState`` is ``completed``. Too few free
  resources refuse the whole reservation (422 ``POOL_EXHAUSTED``), nothing is taken. A request
  asks at most ``TMFSTACK_RESERVATION_MAX`` resources (100), and a customer holds at most
  ``TMFSTACK_RESERVATION_CUSTOMER_MAX`` (1000, order-taken ones included): 422
  ``RESERVATION_LIMIT`` beyond, checked before anything is taken.
  PATCH ``reservationState`` to ``released`` gives them back.
- ``availabilityCheck``: create with ``resourceCapacityDemand`` (a ResourceCapacityDemand:
  pool and amount) answers with ``availableCapacityAmount`` and ``isAvailable``.
"""

from __future__ import annotations

from typing import Any

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest, Conflict, Unprocessable
from ...tmf import Doc
from . import pools
from .samples import availability_check

CATALOG = "tmf634"
RESERVATION = StateMachine(
    "reservationState", {"completed": {"released"}, "released": set()}, initial="completed", creatable={"completed"}
)


async def check_pool(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    specs = svc.engine.resource(CATALOG, "resourceSpecification")
    for spec_id in pools.pool_specs(doc):
        if await specs.row(spec_id, unit) is None:
            raise Unprocessable(f"resourceCollection: resource specification {spec_id!r} does not exist")


async def check_pool_change(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
    if pools.pool_specs(before) != pools.pool_specs(after):
        await check_pool(svc, unit, after)


def _amount(value: Any, default: int = 1) -> int:
    if value is None:
        return default
    try:
        digits = str(value).split()[0]  # "10", "10 ea"
        if len(digits) > 12:  # far past any cap: refused without big-number arithmetic or echo
            raise ValueError
        amount = int(digits)
    except (ValueError, IndexError):
        raise BadRequest(
            f"capacity amount {str(value)[:20]!r} is not a whole number below 10^12", code="INVALID_VALUE"
        ) from None
    if amount < 1:
        raise BadRequest(f"capacity amount {value!r} must be at least 1", code="INVALID_VALUE")
    return amount


async def _pool(svc: ResourceService, unit: Unit, capacity: Doc) -> Doc:
    pool_id = (capacity.get("resourcePool") or {}).get("id")
    if not pool_id:
        raise BadRequest("resourceCapacity.resourcePool.id is required", code="MISSING_ATTRIBUTE")
    pool = await pools.pools(svc.engine).read(pool_id, unit)
    if pool is None:
        raise Unprocessable(f"resource pool {pool_id!r} does not exist")
    return pool


async def reserve(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    party = doc.get("relatedParty") or {}
    owner = {
        "id": party.get("id"),
        "name": party.get("name"),
        "role": party.get("role"),
        "@referredType": party.get("@referredType") or "Party",
    }
    owner = {k: v for k, v in owner.items() if v is not None}
    items = doc.get("reservationItem") or []
    asked = []
    for item in items:
        capacity = item.get("resourceCapacity") or {}
        asked.append(
            (await _pool(svc, unit, capacity), _amount(capacity.get("capacityDemandAmount"), item.get("quantity") or 1))
        )
    await _within_limits(svc, unit, sum(n for _, n in asked), str(owner.get("id") or ""))
    holder = {"id": doc["id"], "href": doc["href"]}
    for item, (pool, wanted) in zip(items, asked, strict=True):
        got = await pools.take_many(
            svc.engine, unit, pools.pool_specs(pool), wanted, party=owner if owner.get("id") else None, holder=holder
        )
        if len(got) < wanted:
            raise pools.PoolExhausted(f"pool {pool['id']}: {len(got)} of {wanted} resources free")
        item["subReservationState"] = "completed"
        item["appliedCapacityAmount"] = {
            "appliedDemandAmount": str(len(got)),
            "resource": [
                {"id": r["id"], "href": r["href"], "name": r.get("name"), "@referredType": r["@type"]} for r in got
            ],
        }
    doc["reservationState"] = "completed"


async def _within_limits(svc: ResourceService, unit: Unit, total: int, customer: str) -> None:
    """A request's size and the customer's holding are capped before anything is taken."""
    settings = svc.engine.settings
    if total > settings.reservation_max:
        raise Unprocessable(
            f"a reservation asks for {total} resources; at most {settings.reservation_max} per request",
            code="RESERVATION_LIMIT",
        )
    held = await pools.resources(svc.engine).held(unit, customer)
    if held + total > settings.reservation_customer_max:
        raise Unprocessable(
            f"customer {customer or '(none)'} holds {held} resources; {total} more would pass the limit "
            f"of {settings.reservation_customer_max}",
            code="RESERVATION_LIMIT",
        )


def reservation_patch(after: Doc, before: Doc) -> None:
    changed = {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
    refused = sorted(changed - {"reservationState", "description", "@schemaLocation"})
    if refused:
        raise BadRequest(
            f"{', '.join(refused)} cannot change on a reservation; release it and reserve again",
            code="READ_ONLY_ATTRIBUTE",
        )


async def released(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
    if before.get("reservationState") != "released" and after.get("reservationState") == "released":
        serving = await pools.serving(svc.engine, unit, after)
        if serving:
            raise Conflict(
                f"{', '.join(serving)} still serve a service; end the service (a delete order) to give them back",
                code="RESOURCES_IN_SERVICE",
            )
        for item in after.get("reservationItem") or []:
            for ref in (item.get("appliedCapacityAmount") or {}).get("resource") or []:
                await pools.give_back(svc.engine, unit, ref["id"], holder=after["id"])


async def check_availability(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    demand = doc.get("resourceCapacityDemand")
    if not isinstance(demand, dict):
        raise BadRequest("resourceCapacityDemand (pool and amount) is required", code="MISSING_ATTRIBUTE")
    pool = await _pool(svc, unit, demand)
    wanted = _amount(demand.get("capacityDemandAmount"))
    free = 0
    for spec_id in pools.pool_specs(pool):
        free += await pools.free_count(svc.engine, spec_id)
    doc["availableCapacityAmount"] = str(free)
    doc["isAvailable"] = free >= wanted


API = ApiDecl.build(
    # the only official file; it has no GET on resourcePool and refers to undefined definitions
    "TMF685-Resource_Pool_Management-v1.0.regular.swagger.json",
    resources=[
        ResourceDecl(
            "resourcePool",
            ref_paths=("resourceCollection.objectId",),
            before_insert=check_pool,
            on_update=check_pool_change,
        ),
        ResourceDecl(
            "reservation",
            lifecycle=RESERVATION,
            ref_paths=("relatedParty.id", "reservationItem.appliedCapacityAmount.resource.id"),
            before_insert=reserve,
            patch_rules=[reservation_patch],
            on_update=released,
        ),
        ResourceDecl("availabilityCheck", before_insert=check_availability, sample=availability_check),
    ],
)

"""Service order management: TMF641 service orders down to resources and activations.

The ``serviceOrder`` step, for one order, does the next thing its state calls for:

- acknowledged: check each item (specification known; the service to modify or delete in
  TMF638) → rejected with ``errorMessage``, or inProgress;
- inProgress: run each item whose dependencies (``serviceOrderItemRelationship``
  "dependency") completed; roll the items up (completed / failed / partial, or held).

An ``add`` item designs its CFS and the RFS it relies on in TMF638 (``designed``), asks a
TMF652 resource order for the RFS's resources, puts the RFS ``reserved`` with their
``supportingResource``, requests each RFS's activation (TMF640) and, when all are done,
makes the RFS and the CFS ``active``. ``modify`` requests the changed characteristics
(mapped to each RFS) or the new state (inactive = suspended); ``delete`` requests
termination, then gives the resources back. Each phase is recognised from what exists, so
a step replayed after a crash continues where the committed state is.

A failed activation fails the item and compensates (resources given back, services
terminated), or, with ``activation_failure = "hold"``, holds the item and the order for an
operator who PATCHes the order back to inProgress (retry) or cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...clock import now_iso
from ...engine.access import with_partner
from ..activation import tmf640
from ..catalog.chain import ChainView, map_characteristics, wanted_value
from . import rom
from .flow import (
    ACTIVATION,
    CANCEL_SERVICE_ORDER_QUEUE,
    PRODUCT_ORDER_QUEUE,
    RESOURCE_ORDER_QUEUE,
    RESOURCE_ORDERING,
    SERVICE_INVENTORY,
    SERVICE_ORDER_QUEUE,
    SERVICE_ORDERING,
    Doc,
    customer_of,
    end_items,
    ensure,
    load,
    note,
    order_outcome,
    ref,
    save,
    service,
    stable_id,
    wake,
    wake_cancels,
)
from .manager.characteristics import merge_characteristics
from .states import ITEM_TERMINAL, TERMINAL

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.service import ResourceService
    from ...engine.unit import Unit

AUTHOR = "service order manager"
CANCELLING = frozenset({"assessingCancellation", "pendingCancellation"})
WAITING = "inProgress"


@dataclass
class Ctx:
    engine: Engine
    unit: Unit
    order: Doc
    view: ChainView

    def svc(self, api: str, resource: str) -> ResourceService:
        return service(self.engine, api, resource)

    @property
    def inventory(self) -> ResourceService:
        return self.svc(SERVICE_INVENTORY, "service")

    @property
    def activations(self) -> ResourceService:
        return self.svc(ACTIVATION, "service")

    @property
    def resource_orders(self) -> ResourceService:
        return self.svc(RESOURCE_ORDERING, "resourceOrder")


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


def _error(item: Doc | None, order_id: str, code: str, message: str) -> Doc:
    err: Doc = {"code": code, "reason": code.replace("_", " ").lower(), "message": message, "timestamp": now_iso()}
    if item is not None:
        err["serviceOrderItem"] = [{"id": item["id"], "itemId": item["id"], "serviceOrderId": order_id}]
    err["@type"] = "ServiceOrderErrorMessage"
    return err


async def process_service_order(engine: Engine, unit: Unit, order_id: str, view: ChainView | None = None) -> None:
    """One step for a service order (``view``: the caller's catalog cache, when run inline)."""
    with unit.claiming((SERVICE_ORDER_QUEUE, order_id)):  # what it causes, it looks at itself
        await _step(engine, unit, order_id, view or ChainView(engine, unit))


async def _step(engine: Engine, unit: Unit, order_id: str, view: ChainView) -> None:
    orders = service(engine, SERVICE_ORDERING, "serviceOrder")
    order = await load(unit, orders, order_id)
    if order is None:
        return
    ctx = Ctx(engine, unit, order, view)
    if order["state"] == "acknowledged":
        await _accept(ctx)
    if ctx.order["state"] == "inProgress":
        if any(i.get("state") == "held" for i in ctx.order["serviceOrderItem"]):
            await resume_held(ctx)  # an operator moved the held order back to inProgress
        await _progress(ctx)
    if ctx.order["state"] in ("assessingCancellation", "pendingCancellation"):
        # a resource order it waits for ended
        cancels = ctx.svc(SERVICE_ORDERING, "cancelServiceOrder")
        await wake_cancels(unit, cancels, "serviceOrder.id", order_id, CANCEL_SERVICE_ORDER_QUEUE)


async def _accept(ctx: Ctx) -> None:
    order, problems = ctx.order, []
    for item in order.get("serviceOrderItem") or []:
        target = item.get("service") or {}
        if item["action"] == "add":
            spec_id = (target.get("serviceSpecification") or {}).get("id")
            if await ctx.view.service_spec(spec_id) is None:
                problems.append((item, "UNKNOWN_SPECIFICATION", f"service specification {spec_id!r} does not exist"))
        elif item["action"] in ("modify", "delete"):
            current = await load(ctx.unit, ctx.inventory, target.get("id"))
            if current is None:
                problems.append((item, "UNKNOWN_SERVICE", f"service {target.get('id')!r} is not in the inventory"))
            elif current.get("state") == "terminated":
                problems.append((item, "SERVICE_TERMINATED", f"service {current['id']} is terminated"))
    notes = order.setdefault("note", [])
    if problems:
        order["errorMessage"] = [_error(i, order["id"], c, m) for i, c, m in problems]
        end_items(order["serviceOrderItem"], "rejected")
        order.update(state="rejected", completionDate=now_iso())
        notes.append(note(AUTHOR, "rejected: " + "; ".join(f"item {i['id']}: {m}" for i, _, m in problems)))
    else:
        end_items(order["serviceOrderItem"], "inProgress")
        order.update(state="inProgress", startDate=now_iso())
        notes.append(note(AUTHOR, "acknowledged → inProgress"))
    ctx.order = await save(ctx.unit, ctx.svc(SERVICE_ORDERING, "serviceOrder"), order)
    if order["state"] in TERMINAL:
        await _wake_parent(ctx)


async def _wake_parent(ctx: Ctx) -> None:
    parent = parent_order(ctx.order)
    if parent:
        await wake(ctx.unit, PRODUCT_ORDER_QUEUE, parent)


def _deps(item: Doc, items: dict[str, Doc]) -> list[Doc]:
    out = []
    for rel in item.get("serviceOrderItemRelationship") or []:
        if str(rel.get("relationshipType", "")).casefold() in ("dependency", "dependson"):
            target = items.get((rel.get("orderItem") or {}).get("itemId") or (rel.get("orderItem") or {}).get("id"))
            if target is not None:
                out.append(target)
    return out


async def _progress(ctx: Ctx) -> None:
    order = ctx.order
    items = {i["id"]: i for i in order["serviceOrderItem"]}
    moved = True
    while moved:  # an item completing may let a dependent one start in the same step
        moved = False
        for item in items.values():
            if item.get("state") != "inProgress":
                continue
            deps = _deps(item, items)
            broken = [d for d in deps if d.get("state") in ITEM_TERMINAL and d.get("state") != "completed"]
            if broken:
                result = Result("failed", f"item {broken[0]['id']} it depends on is {broken[0]['state']}")
            elif any(d.get("state") != "completed" for d in deps):
                continue
            else:
                result = await HANDLERS[item["action"]](ctx, item)
            if result.state != WAITING:
                item["state"] = result.state
                moved = True
                if result.state in ("failed", "held"):
                    order.setdefault("errorMessage", []).append(
                        _error(
                            item,
                            order["id"],
                            "ACTIVATION_FAILED" if result.state == "held" else "ITEM_FAILED",
                            result.reason,
                        )
                    )
                order.setdefault("note", []).append(
                    note(AUTHOR, f"item {item['id']} {result.state}: {result.reason}".rstrip(": "))
                )
    outcome = order_outcome(order["serviceOrderItem"])
    if outcome is not None and outcome != order["state"]:
        order["state"] = outcome
        if outcome in TERMINAL:
            order["completionDate"] = now_iso()
        order["note"].append(note(AUTHOR, f"inProgress → {outcome}"))
    ctx.order = await save(ctx.unit, ctx.svc(SERVICE_ORDERING, "serviceOrder"), order)
    if outcome is not None:
        await _wake_parent(ctx)


# -- add ------------------------------------------------------------------------------


async def _plan(ctx: Ctx, item: Doc, spec: Doc, cfs_id: str) -> tuple[Doc, list[Doc]]:
    """The CFS and the RFS it relies on, as TMF638 documents (``designed``), not yet written.
    A directly ordered RFS is its own plan (no separate RFS list)."""
    wanted = item.get("service") or {}
    chars = wanted.get("serviceCharacteristic") or []
    party = customer_of(ctx.order)
    parties = with_partner([party] if party else [], ctx.order)
    back = [{"serviceOrderId": ctx.order["id"], "itemId": item["id"], "itemAction": "add", "role": "creates"}]
    rfs_specs = await ctx.view.rfs_of(spec)
    direct = rfs_specs == [spec]
    rfs_docs = []
    if not direct:
        for rfs_spec in rfs_specs:
            rfs_id = stable_id(cfs_id, rfs_spec["id"])
            rfs_docs.append(
                {
                    "id": rfs_id,
                    "href": ctx.inventory.href(rfs_id),
                    "name": rfs_spec.get("name"),
                    "category": "ResourceFacingService",
                    "state": "designed",
                    "isServiceEnabled": False,
                    "hasStarted": False,
                    "serviceSpecification": ref(rfs_spec, "ResourceFacingServiceSpecification"),
                    "serviceCharacteristic": map_characteristics(rfs_spec, spec["id"], chars),
                    "relatedParty": parties,
                    "serviceOrderItem": back,
                    "@type": "ResourceFacingService",
                }
            )
    kind = "ResourceFacingService" if direct else "CustomerFacingService"
    cfs = {
        "id": cfs_id,
        "href": ctx.inventory.href(cfs_id),
        "name": wanted.get("name") or spec.get("name"),
        "category": kind,
        "state": "designed",
        "isServiceEnabled": False,
        "hasStarted": False,
        "serviceSpecification": ref(spec, spec.get("@type") or "ServiceSpecification"),
        "serviceCharacteristic": chars,
        "relatedParty": parties,
        "serviceOrderItem": back,
        "supportingService": [ref(r, "ResourceFacingService") for r in rfs_docs],
        "@type": kind,
    }
    if wanted.get("relatedEntity"):
        cfs["relatedEntity"] = wanted["relatedEntity"]
    return cfs, rfs_docs


async def _write(ctx: Ctx, docs: list[Doc], state: str) -> list[Doc]:
    """Create planned services in ``state`` (with its dates); returns what was stored."""
    out = []
    for doc in docs:
        body = {k: v for k, v in doc.items() if k != "href"}
        body["state"] = state
        if state == "active":
            body.update(isServiceEnabled=True, hasStarted=True, startDate=now_iso())
        stored, _ = await ensure(ctx.unit, ctx.inventory, body)
        out.append(stored)
    return out


async def _rfs_docs(ctx: Ctx, cfs: Doc) -> list[Doc]:
    if cfs.get("category") == "ResourceFacingService":
        return [cfs]
    docs = [await load(ctx.unit, ctx.inventory, r["id"]) for r in cfs.get("supportingService") or []]
    return [d for d in docs if d is not None]


async def _resource_order(ctx: Ctx, item: Doc, rfs_docs: list[Doc], key: str, action: str) -> Doc | None:
    """The item's resource order (created on first call): add one per resource an RFS needs, or
    delete the ones the RFS hold. None when there is nothing to order."""
    order_id = stable_id(ctx.order["id"], item["id"], key)
    existing = await load(ctx.unit, ctx.resource_orders, order_id)
    if existing is not None:
        return existing
    lines = []
    for n, rfs in enumerate(rfs_docs, 1):
        if action == "add":
            spec = await ctx.view.service_spec((rfs.get("serviceSpecification") or {}).get("id")) or {}
            for k, rs_ref in enumerate(spec.get("resourceSpecification") or [], 1):
                rs = await ctx.view.resource_spec(rs_ref.get("id")) or rs_ref
                line: Doc = {"id": f"{n}.{k}", "action": "add", "quantity": 1}
                line["resourceSpecification"] = {**ref(rs), "@referredType": "ResourceSpecification"}
                value = wanted_value(rfs.get("serviceCharacteristic") or [], rs)
                if value is not None:
                    line["@type"] = "ResourceOrderItem"
                    line["resource"] = {"id": "", "href": "", "name": value, "@referredType": "Resource"}
                lines.append(line)
        else:
            for k, res in enumerate(rfs.get("supportingResource") or [], 1):
                lines.append(
                    {
                        "id": f"{n}.{k}",
                        "action": "delete",
                        "quantity": 1,
                        "resource": {"id": res["id"], "href": res.get("href") or res["id"], "name": res.get("name")},
                    }
                )
    if not lines:
        return None
    party = customer_of(ctx.order)
    body = {
        "id": order_id,
        "description": f"{'Resources for' if action == 'add' else 'Release of'} {ctx.order['id']}/{item['id']}",
        "category": "serviceFulfilment",
        "orderItem": lines,
        "externalReference": [{"entityType": "ServiceOrder", "id": ctx.order["id"], "owner": AUTHOR}],
        "relatedParty": with_partner([party] if party else [], ctx.order),
        "@type": "ResourceOrder",
    }
    steps = ((RESOURCE_ORDER_QUEUE, order_id), (SERVICE_ORDER_QUEUE, ctx.order["id"]))
    with ctx.unit.claiming(*steps):
        await ctx.resource_orders.create(body, keep_id=True, unit=ctx.unit)
        # pools answer at once: serve it in this step
        serves = {line["id"]: rfs_docs[int(line["id"].split(".")[0]) - 1] for line in lines}
        await rom.process_resource_order(ctx.engine, ctx.unit, order_id, serves=serves)
    return await load(ctx.unit, ctx.resource_orders, order_id)


async def _attach_resources(ctx: Ctx, rfs_docs: list[Doc], order: Doc) -> list[Doc]:
    out = []
    for n, rfs in enumerate(rfs_docs, 1):
        held = _held(order, n)
        if rfs.get("state") == "designed":

            def change(doc: Doc, held: list[Doc] = held) -> Doc:
                return {**doc, "supportingResource": held, "state": "reserved"}

            rfs, _, _ = await ctx.inventory.update(rfs["id"], change, unit=ctx.unit)
        out.append(rfs)
    return out


async def _request(ctx: Ctx, item: Doc, rfs: Doc, state: str, chars: list[Doc] | None = None) -> Doc:
    """Ask TMF640 for ``rfs`` in ``state`` (with ``chars`` merged), once per service order item."""
    mine = {"serviceOrderId": ctx.order["id"], "itemId": item["id"], "itemAction": item["action"], "role": "requests"}
    current = await load(ctx.unit, ctx.activations, rfs["id"])
    if current is None:
        body = {
            "id": rfs["id"],
            "name": rfs.get("name"),
            "category": "ResourceFacingService",
            "state": state,
            "serviceSpecification": rfs["serviceSpecification"],
            "serviceCharacteristic": rfs.get("serviceCharacteristic") or [],
            "supportingResource": rfs.get("supportingResource") or [],
            "relatedParty": rfs.get("relatedParty") or [],
            "serviceOrderItem": [mine],
            "@type": "ResourceFacingService",
        }
        created, _ = await ensure(ctx.unit, ctx.activations, body)
        return created
    if any(
        o.get("serviceOrderId") == mine["serviceOrderId"] and o.get("itemId") == mine["itemId"]
        for o in current.get("serviceOrderItem") or []
    ):
        return current  # already requested by this item

    def change(doc: Doc) -> Doc:
        doc["state"] = state
        if chars:
            doc["serviceCharacteristic"] = merge_characteristics(doc.get("serviceCharacteristic") or [], chars)
        doc["serviceOrderItem"] = [*(doc.get("serviceOrderItem") or []), mine]
        return doc

    updated, _, _ = await ctx.activations.update(rfs["id"], change, unit=ctx.unit)
    return updated


async def _activation(ctx: Ctx, activation: Doc) -> tuple[str, str]:
    """("done" | "waiting" | "failed", message) of a service's latest activation request."""
    monitor = await tmf640.latest_monitor(ctx.engine, activation["href"], ctx.unit)
    if monitor is None:
        return "done", ""  # a first request answered at once with success has no monitor
    if monitor["state"] == "inProgress":
        return "waiting", ""
    if monitor["state"] == "completed":
        return "done", ""
    body = (monitor.get("response") or {}).get("body") or ""
    return "failed", f"activation of {activation.get('name')} failed: {body}"


async def _activate_all(
    ctx: Ctx, item: Doc, rfs_docs: list[Doc], state: str, chars: dict[str, list[Doc]] | None = None
) -> Result | None:
    """Request and await ``state`` for every RFS; None when all are done, else the item's Result."""
    statuses = []
    for rfs in rfs_docs:
        activation = await _request(ctx, item, rfs, state, (chars or {}).get(rfs["id"]))
        statuses.append(await _activation(ctx, activation))
    failed = [m for s, m in statuses if s == "failed"]
    if any(s == "waiting" for s, _ in statuses):
        return Result(WAITING)
    if failed:
        return Result("failed", "; ".join(failed))
    return None


async def _set_state(ctx: Ctx, docs: list[Doc], state: str) -> None:
    for doc in docs:
        current = await load(ctx.unit, ctx.inventory, doc["id"])
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
        await ctx.inventory.update(doc["id"], lambda d, c=changes: {**d, **c, "state": state}, unit=ctx.unit)


def _held_instead(ctx: Ctx, result: Result) -> Result | None:
    """A failed activation holds the item for an operator when so configured (else None)."""
    if result.state == "failed" and ctx.engine.domain.activation_failure == "hold":
        return Result("held", f"{result.reason}; resume (PATCH state inProgress) to retry, or cancel")
    return None


async def _fail_add(ctx: Ctx, item: Doc, cfs: Doc, rfs_docs: list[Doc], reason: str) -> Result:
    held = _held_instead(ctx, Result("failed", reason))
    if held is not None:
        return held
    await undo_add(ctx, item, cfs, rfs_docs)
    return Result("failed", f"{reason}; resources given back, services terminated")


async def undo_add(ctx: Ctx, item: Doc, cfs: Doc, rfs_docs: list[Doc]) -> None:
    """Compensate an add: deactivate what was activated, give resources back, terminate services."""
    for rfs in rfs_docs:
        activation = await load(ctx.unit, ctx.activations, rfs["id"])
        if activation is not None and activation.get("state") != "terminated":
            await ctx.activations.update(rfs["id"], lambda d: {**d, "state": "terminated"}, unit=ctx.unit)
    await _resource_order(ctx, item, rfs_docs, "release", "delete")
    await _set_state(ctx, [*rfs_docs, cfs], "terminated")


async def _add(ctx: Ctx, item: Doc) -> Result:
    target = item.setdefault("service", {})
    spec = await ctx.view.service_spec((target.get("serviceSpecification") or {}).get("id"))
    if spec is None:
        return Result("failed", "its service specification no longer exists")
    cfs_id = stable_id(ctx.order["id"], item["id"], "service")
    target.update(id=cfs_id, href=ctx.inventory.href(cfs_id))
    cfs = await load(ctx.unit, ctx.inventory, cfs_id)
    if cfs is None:
        return await _add_first(ctx, item, spec, cfs_id)
    # a later look (after waiting, a crash, or an operator's release): go on from the stored phase
    rfs_docs = await _rfs_docs(ctx, cfs)
    if any(r.get("state") == "designed" for r in rfs_docs):
        order = await _resource_order(ctx, item, rfs_docs, "resources", "add")
        if order is not None:
            if order["state"] not in TERMINAL:
                return Result(WAITING)
            if order["state"] != "completed":
                await _set_state(ctx, [*rfs_docs, cfs], "terminated")
                return Result("failed", _resource_failure(order))
        rfs_docs = await _attach_resources(ctx, rfs_docs, order or {})
    if cfs.get("state") == "active":
        return Result("completed")
    waiting = await _activate_all(ctx, item, rfs_docs, "active")
    if waiting is not None:
        if waiting.state == "failed":
            return await _fail_add(ctx, item, cfs, rfs_docs, waiting.reason)
        return waiting
    await _set_state(ctx, [*rfs_docs, cfs], "active")
    return Result("completed")


def _resource_failure(order: Doc) -> str:
    reasons = [n["text"] for n in order.get("note") or [] if "failed" in n.get("text", "")]
    return f"resource order {order['id']} {order['state']}: {'; '.join(reasons)}"


async def _add_first(ctx: Ctx, item: Doc, spec: Doc, cfs_id: str) -> Result:
    """The first look at an add: resources and activations are asked at once, and services are
    written once, in the state they reach in this step (active when everything answered at once;
    designed / reserved when something is still to come, so a later look knows the phase)."""
    cfs, rfs_docs = await _plan(ctx, item, spec, cfs_id)
    on_network = rfs_docs or [cfs]
    order = await _resource_order(ctx, item, on_network, "resources", "add")
    if order is not None and order["state"] not in TERMINAL:
        await _write(ctx, [*rfs_docs, cfs], "designed")
        return Result(WAITING)
    if order is not None and order["state"] != "completed":
        for key in ("id", "href"):  # nothing was designed: the line names no service, nothing to undo
            item["service"].pop(key, None)
        return Result("failed", _resource_failure(order))
    for n, rfs in enumerate(on_network, 1):
        held = _held(order or {}, n)
        if held:
            rfs.update(supportingResource=held, state="reserved")
    waiting = await _activate_all(ctx, item, on_network, "active")
    if waiting is None:
        await _write(ctx, [*rfs_docs, cfs] if rfs_docs else [cfs], "active")
        return Result("completed")
    stored = await _write(ctx, rfs_docs, "reserved")
    cfs_doc = (await _write(ctx, [cfs], "reserved" if not rfs_docs else "designed"))[0]
    if waiting.state == "failed":
        return await _fail_add(ctx, item, cfs_doc, stored or [cfs_doc], waiting.reason)
    return waiting


def _held(order: Doc, n: int) -> list[Doc]:
    """References to the resources resource-order lines ``n.*`` hold (RFS number ``n``)."""
    return [
        {**ref(line["resource"]), "@referredType": line["resource"].get("@referredType", "Resource")}
        for line in order.get("orderItem") or []
        if line["id"].split(".")[0] == str(n) and line.get("state") == "completed" and line.get("resource")
    ]


# -- modify and delete ------------------------------------------------------------------


async def _modify(ctx: Ctx, item: Doc) -> Result:
    target = item.get("service") or {}
    cfs = await load(ctx.unit, ctx.inventory, target.get("id"))
    if cfs is None:
        return Result("failed", f"service {target.get('id')!r} is no longer in the inventory")
    rfs_docs = await _rfs_docs(ctx, cfs)
    state = target.get("state") or cfs.get("state")
    if state not in ("active", "inactive"):
        state = cfs.get("state")
    changes = target.get("serviceCharacteristic") or []
    cfs_spec = await ctx.view.service_spec((cfs.get("serviceSpecification") or {}).get("id")) or {}
    per_rfs: dict[str, list[Doc]] = {}
    for rfs in rfs_docs:
        if rfs is cfs:
            per_rfs[rfs["id"]] = changes
            continue
        rfs_spec = await ctx.view.service_spec((rfs.get("serviceSpecification") or {}).get("id")) or {}
        per_rfs[rfs["id"]] = map_characteristics(rfs_spec, cfs_spec.get("id", ""), changes, defaults=False)
    waiting = await _activate_all(ctx, item, rfs_docs, state, per_rfs)
    if waiting is not None:
        return _held_instead(ctx, waiting) or waiting
    for doc in [*rfs_docs, cfs] if rfs_docs and rfs_docs[0] is not cfs else [cfs]:
        chars = changes if doc is cfs else per_rfs.get(doc["id"]) or []
        if chars:
            await ctx.inventory.update(
                doc["id"],
                lambda d, c=chars: {
                    **d,
                    "serviceCharacteristic": merge_characteristics(d.get("serviceCharacteristic") or [], c),
                },
                unit=ctx.unit,
            )
    await _set_state(ctx, [*rfs_docs, cfs], state)
    return Result("completed")


async def _delete(ctx: Ctx, item: Doc) -> Result:
    cfs = await load(ctx.unit, ctx.inventory, (item.get("service") or {}).get("id"))
    if cfs is None:
        return Result("failed", "the service is no longer in the inventory")
    if cfs.get("state") == "terminated":
        return Result("completed")
    rfs_docs = await _rfs_docs(ctx, cfs)
    waiting = await _activate_all(ctx, item, rfs_docs, "terminated")
    if waiting is not None:
        return _held_instead(ctx, waiting) or waiting
    order = await _resource_order(ctx, item, rfs_docs, "release", "delete")
    if order is not None and order["state"] not in TERMINAL:
        return Result(WAITING)
    await _set_state(ctx, [*rfs_docs, cfs], "terminated")
    return Result("completed")


async def _no_change(ctx: Ctx, item: Doc) -> Result:
    return Result("completed")


HANDLERS = {"add": _add, "modify": _modify, "delete": _delete, "noChange": _no_change}


# -- held → inProgress, and cancellation ------------------------------------------------


async def resume_held(ctx: Ctx) -> None:
    """The operator released a held order: request the failed activations again."""
    for item in ctx.order["serviceOrderItem"]:
        if item.get("state") != "held":
            continue
        cfs = await load(ctx.unit, ctx.inventory, (item.get("service") or {}).get("id"))
        for rfs in await _rfs_docs(ctx, cfs) if cfs else []:
            activation = await load(ctx.unit, ctx.activations, rfs["id"])
            if activation is not None and (await _activation(ctx, activation))[0] == "failed":
                await tmf640.request_again(ctx.engine, ctx.unit, rfs["id"])
        item["state"] = "inProgress"
    ctx.order.setdefault("note", []).append(note(AUTHOR, "held → inProgress: failed activations requested again"))


async def undo_item(ctx: Ctx, item: Doc) -> bool:
    """Compensate one item of a cancelled order; False while its resource order is still open."""
    if item.get("action") != "add":
        return True  # a modify or delete already applied is reported, not reversed
    cfs_id = stable_id(ctx.order["id"], item["id"], "service")
    cfs = await load(ctx.unit, ctx.inventory, cfs_id)
    if cfs is None:
        return True
    rfs_docs = await _rfs_docs(ctx, cfs)
    got = await load(ctx.unit, ctx.resource_orders, stable_id(ctx.order["id"], item["id"], "resources"))
    if got is not None and got["state"] not in TERMINAL:
        return False
    if got is not None and got["state"] == "completed":
        rfs_docs = await _attach_resources(ctx, rfs_docs, got)
    await undo_add(ctx, item, cfs, rfs_docs)
    return True


async def open_resource_orders(ctx: Ctx) -> list[Doc]:
    found = []
    for item in ctx.order["serviceOrderItem"]:
        for key in ("resources", "release"):
            order = await load(ctx.unit, ctx.resource_orders, stable_id(ctx.order["id"], item["id"], key))
            if order is not None and order["state"] not in TERMINAL:
                found.append(order)
    return found


async def process_cancel(engine: Engine, unit: Unit, cancel_id: str) -> None:
    """cancelServiceOrder: cancel the open resource orders, compensate the items, end cancelled."""
    cancels = service(engine, SERVICE_ORDERING, "cancelServiceOrder")
    cancel = await load(unit, cancels, cancel_id)
    if cancel is None or cancel["state"] in ("done", "terminatedWithError"):
        return
    orders = service(engine, SERVICE_ORDERING, "serviceOrder")
    order = await load(unit, orders, (cancel.get("serviceOrder") or {}).get("id"))
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
    ctx = Ctx(engine, unit, order, ChainView(engine, unit))
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
    await _wake_parent(ctx)

"""Resources for a service order item: one TMF652 resource order per item and purpose (its
resources, or their release), served in the same step (the pools answer at once).

Each resource order line states the RFS its resource serves (``servesService``); its id
("n.k": RFS n, resource k) is a stable name that replayed steps and kits rely on, never
parsed for what it encodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....engine.access import with_partner
from ....tmf import Doc, ref
from ...catalog.chain import wanted_value
from ...documents import customer_of
from ..resource.steps import process_resource_order
from ..shared import (
    RESOURCE_ORDER_QUEUE,
    SERVICE_ORDER_QUEUE,
    StepContext,
    stable_id,
)
from .common import (
    AUTHOR,
    inventory,
    resource_orders,
)

if TYPE_CHECKING:
    pass


#: the attribute of a resource order line naming the RFS its resource serves
SERVES = "servesService"


async def resource_order(ctx: StepContext, item: Doc, rfs_docs: list[Doc], key: str, action: str) -> Doc | None:
    """The item's resource order (created on first call): add one per resource an RFS needs, or
    delete the ones the RFS hold. None when there is nothing to order."""
    order_id = stable_id(ctx.order["id"], item["id"], key)
    existing = await resource_orders(ctx).read(order_id, ctx.unit, track=True)
    if existing is not None:
        return existing
    lines: list[Doc] = []
    serves: dict[str, Doc] = {}  #: line id -> the RFS its resource serves
    for n, rfs in enumerate(rfs_docs, 1):
        mine = len(lines)
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
        for line in lines[mine:]:  # the RFS a line is for, stated (its id "n.k" is a stable name only)
            line[SERVES] = {"id": rfs["id"], "@referredType": "Service"}
            serves[line["id"]] = rfs
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
        await resource_orders(ctx).create(body, keep_id=True, unit=ctx.unit)
        # pools answer at once: serve it in this step
        await process_resource_order(ctx.engine, ctx.unit, order_id, serves=serves)
    return await resource_orders(ctx).read(order_id, ctx.unit, track=True)


async def attach_resources(ctx: StepContext, rfs_docs: list[Doc], order: Doc) -> list[Doc]:
    out = []
    for rfs in rfs_docs:
        held = held_resources(order, rfs["id"])
        if rfs.get("state") == "designed":

            def change(doc: Doc, held: list[Doc] = held) -> Doc:
                return {**doc, "supportingResource": held, "state": "reserved"}

            rfs, _, _ = await inventory(ctx).update(rfs["id"], change, unit=ctx.unit)
        out.append(rfs)
    return out


def held_resources(order: Doc, rfs_id: str) -> list[Doc]:
    """References to the resources the completed resource-order lines for RFS ``rfs_id`` hold."""
    return [
        {**ref(line["resource"]), "@referredType": line["resource"].get("@referredType", "Resource")}
        for line in order.get("orderItem") or []
        if (line.get(SERVES) or {}).get("id") == rfs_id and line.get("state") == "completed" and line.get("resource")
    ]


def resource_failure(order: Doc) -> str:
    reasons = [n["text"] for n in order.get("note") or [] if "failed" in n.get("text", "")]
    return f"resource order {order['id']} {order['state']}: {'; '.join(reasons)}"

"""The order manager's chain fulfilment: a product order item becomes a TMF641 service order.

``ChainFulfiller.fulfil`` (the ``Fulfiller`` seam of ``fulfil.py``), for one item:

- first call: decompose the item (and its bundle children) along the catalog chain
  (``chain.py``) into one service order (id derived from order and item): ``add`` → one
  ``add`` per CFS of the product specification, characteristics mapped, dependencies as
  ``serviceOrderItemRelationship``; ``modify`` → ``modify`` of the product's
  ``realizingService`` with only the changed characteristics, or state ``inactive`` /
  ``active`` for suspend / resume; ``delete`` → ``delete`` of each realizing service. The
  order refers back to the product order (``externalReference``) and each service order
  item to its product order item (``service.relatedEntity``). The item stays inProgress.
- later calls: while the service order runs, inProgress; held when it is held (the product
  order is held too, for an operator); when it completed, the product is written to TMF637
  as before, with ``realizingService``; failed / partial / cancelled fail the item, with
  whatever the service order had delivered undone (a compensating service order).

An item whose product has no service specification (a handset, a discount) is fulfilled
directly, as in issue 3.
"""

from __future__ import annotations

from typing import Any

from ....engine.access import with_partner
from ....tmf import Doc, ref
from ...catalog.chain import DEPENDS_ON, is_rfs, map_characteristics, related
from ...catalog.characteristics import default_characteristics, plan_change
from ...catalog.rules import walk_items
from ...catalog.view import CatalogView
from ...documents import customer_of
from ..service.steps import process_service_order
from ..shared import (
    PRODUCT_ORDER_QUEUE,
    SERVICE_INVENTORY,
    SERVICE_ORDER_QUEUE,
    SERVICE_ORDERING,
    StepContext,
    ensure,
    save,
    stable_id,
)
from ..states import TERMINAL
from .fulfil import DirectFulfiller, ItemFailed


def service_order_id(order_id: str, item_id: str, purpose: str = "serviceOrder") -> str:
    return stable_id(order_id, item_id, purpose)


class ChainFulfiller:
    def __init__(self) -> None:
        self.direct = DirectFulfiller()

    def _orders(self, ctx: StepContext) -> Any:
        return ctx.svc(SERVICE_ORDERING, "serviceOrder")

    async def fulfil(self, ctx: StepContext, item: Doc) -> str:
        orders = self._orders(ctx)
        so = await orders.read(service_order_id(ctx.order["id"], item["id"]), ctx.unit, track=True)
        if so is None:
            lines = await self._lines(ctx, item)
            if not lines:
                return await self.direct.fulfil(ctx, item)
            body = self._order(ctx, item, lines)
            so_id = body["id"]
            with ctx.unit.claiming((SERVICE_ORDER_QUEUE, so_id), (PRODUCT_ORDER_QUEUE, ctx.order["id"])):
                await ensure(ctx.unit, orders, body)
                # what can be done at once (pools, an activation answered at once) commits with this step
                await process_service_order(ctx.engine, ctx.unit, so_id, ctx.view)
            so = await orders.read(so_id, ctx.unit, track=True)
            assert so is not None
        state = so["state"]
        if state == "held":
            return "held"
        if state not in TERMINAL:
            return "inProgress"
        if state == "completed":
            return await self.direct.fulfil(ctx, item, realizing=self._realizing(so))
        await self._undo_delivered(ctx, item, so)
        reasons = [e.get("message", "") for e in so.get("errorMessage") or []] or [f"service order {state}"]
        raise ItemFailed(f"service order {so['id']} {state}: {'; '.join(reasons)}")

    async def resume(self, ctx: StepContext, item: Doc) -> None:
        """The product order was released: release its held service order too."""
        orders = self._orders(ctx)
        so = await orders.read(service_order_id(ctx.order["id"], item["id"]), ctx.unit, track=True)
        if so is not None and so["state"] == "held":
            await save(ctx.unit, orders, {**so, "state": "inProgress"})  # its on_update wakes the SOM

    async def cancel(self, ctx: StepContext, item: Doc) -> bool:
        """Cancel the item's open service order; True once nothing of it is still running."""
        orders = self._orders(ctx)
        so = await orders.read(service_order_id(ctx.order["id"], item["id"]), ctx.unit, track=True)
        if so is None or so["state"] in TERMINAL:
            return True
        body = {
            "id": stable_id(so["id"], "cancel"),
            "serviceOrder": {**ref(so), "@referredType": "ServiceOrder"},
            "cancellationReason": f"product order {ctx.order['id']} cancelled",
        }
        await ensure(ctx.unit, ctx.svc(SERVICE_ORDERING, "cancelServiceOrder"), body)
        return False

    async def compensate(self, ctx: StepContext, item: Doc) -> None:
        """Undo a completed item of a cancelled order: its services are deleted, its product terminated."""
        so = await self._orders(ctx).read(service_order_id(ctx.order["id"], item["id"]), ctx.unit, track=True)
        if so is not None and item.get("action") == "add":
            await self._undo_delivered(ctx, item, so)
        await self.direct.compensate(ctx, item)

    async def _undo_delivered(self, ctx: StepContext, item: Doc, so: Doc) -> None:
        lines: list[Doc] = []
        for line in so.get("serviceOrderItem") or []:
            target = line.get("service") or {}
            if line.get("action") == "add" and line.get("state") == "completed" and target.get("id"):
                lines.append({"id": str(len(lines) + 1), "action": "delete", "service": {"id": target["id"]}})
        if lines:
            body = self._order(ctx, item, lines, purpose="compensation")
            body["description"] = f"Undoes what service order {so['id']} delivered"
            await ensure(ctx.unit, self._orders(ctx), body)

    def _realizing(self, so: Doc) -> dict[str, list[Doc]]:
        found: dict[str, list[Doc]] = {}
        for line in so.get("serviceOrderItem") or []:
            target = line.get("service") or {}
            if line.get("action") != "add" or not target.get("id"):
                continue
            for entity in target.get("relatedEntity") or []:
                if entity.get("role") == "productOrderItem":
                    ref_ = {"id": target["id"], "href": target.get("href"), "name": target.get("name")}
                    found.setdefault(entity["id"], []).append({k: v for k, v in ref_.items() if v})
        return found

    def _order(self, ctx: StepContext, item: Doc, lines: list[Doc], purpose: str = "serviceOrder") -> Doc:
        order = ctx.order
        customer = customer_of(order)
        parties = []
        if customer:
            parties = [{**customer, "role": customer.get("role") or "customer", "@type": "RelatedParty"}]
            parties[0].setdefault("@referredType", "Individual")
        return {
            "id": service_order_id(order["id"], item["id"], purpose),
            "externalId": order["id"],
            "externalReference": [
                {
                    "id": order["id"],
                    "href": order.get("href"),
                    "name": order["id"],
                    "externalReferenceType": "ProductOrder",
                }
            ],
            "category": "productOrderFulfilment",
            "description": f"Fulfils item {item['id']} ({item.get('action')}) of product order {order['id']}",
            "priority": str(order.get("priority") or "4"),
            "relatedParty": with_partner(parties, order),
            "serviceOrderItem": lines,
            "@type": "ServiceOrder",
        }

    async def _lines(self, ctx: StepContext, item: Doc) -> list[Doc]:
        view = ctx.view
        action = item.get("action")
        if action == "add":
            return await self._add_lines(ctx, view, item)
        if action in ("modify", "delete"):
            return await self._change_lines(ctx, view, item)
        return []

    async def _add_lines(self, ctx: StepContext, view: CatalogView, top: Doc) -> list[Doc]:
        lines: list[Doc] = []
        by_spec: dict[str, str] = {}
        pending_deps: list[tuple[Doc, Doc]] = []
        for item in walk_items([top]):
            offering = await ctx.view.offering((item.get("productOffering") or {}).get("id")) or {}
            spec = await ctx.view.specification((offering.get("productSpecification") or {}).get("id"))
            if spec is None:
                continue
            given = (item.get("product") or {}).get("productCharacteristic") or []
            chars = default_characteristics(spec, given, offering)
            for cfs_ref in spec.get("serviceSpecification") or []:
                cfs = await view.service_spec(cfs_ref.get("id"))
                if cfs is None:
                    continue
                line_id = str(len(lines) + 1)
                line: Doc = {
                    "id": line_id,
                    "action": "add",
                    "quantity": 1,
                    "service": {
                        "name": cfs.get("name"),
                        "serviceSpecification": {**ref(cfs), "@referredType": cfs.get("@type", "ServiceSpecification")},
                        "serviceCharacteristic": map_characteristics(cfs, spec["id"], chars),
                        "relatedEntity": [
                            {
                                "id": item["id"],
                                "role": "productOrderItem",
                                "name": f"{ctx.order['id']}/{item['id']}",
                                "@referredType": "ProductOrderItem",
                            }
                        ],
                        "state": "active",
                        "@type": "ResourceFacingService" if is_rfs(cfs) else "CustomerFacingService",
                    },
                }
                by_spec.setdefault(cfs["id"], line_id)
                pending_deps.append((line, cfs))
                lines.append(line)
        for line, cfs in pending_deps:
            rels = [
                {"relationshipType": "dependency", "orderItem": {"id": by_spec[d], "itemId": by_spec[d]}}
                for d in related(cfs, DEPENDS_ON)
                if d in by_spec and by_spec[d] != line["id"]
            ]
            if rels:
                line["serviceOrderItemRelationship"] = rels
        return lines

    async def _realized_by(self, ctx: StepContext, product: Doc) -> list[Doc]:
        """The services realising a product and, for a bundle, its children."""
        found = [r for r in product.get("realizingService") or [] if r.get("id")]
        for child in product.get("product") or []:
            doc = await ctx.view.product(child.get("id"))
            if doc is not None:
                found += await self._realized_by(ctx, doc)
        return found

    async def _change_lines(self, ctx: StepContext, view: CatalogView, item: Doc) -> list[Doc]:
        product = await ctx.view.product((item.get("product") or {}).get("id"))
        if product is None:
            return []
        realizing = await self._realized_by(ctx, product)
        inventory = ctx.svc(SERVICE_INVENTORY, "service")
        lines: list[Doc] = []
        wanted = item.get("product") or {}
        spec_id = (product.get("productSpecification") or {}).get("id", "")
        asked = list(wanted.get("productCharacteristic") or [])
        new_offering = await ctx.view.offering((item.get("productOffering") or {}).get("id"))
        if new_offering and new_offering["id"] != (product.get("productOffering") or {}).get("id"):
            spec = await ctx.view.specification(spec_id)
            asked = [*plan_change(spec, product.get("productCharacteristic") or [], new_offering), *asked]
        for service_ref in realizing:
            current = await inventory.read(service_ref["id"], ctx.unit, track=True)
            if current is None or current.get("state") == "terminated":
                continue
            line: Doc = {"id": str(len(lines) + 1), "action": item["action"], "service": {"id": current["id"]}}
            if item["action"] == "modify":
                cfs = await view.service_spec((current.get("serviceSpecification") or {}).get("id")) or {}
                changes = map_characteristics(cfs, spec_id, asked, defaults=False)
                state = {"suspended": "inactive", "active": "active"}.get(wanted.get("status", ""))
                if not changes and (state is None or state == current.get("state")):
                    continue
                if changes:
                    line["service"]["serviceCharacteristic"] = changes
                if state:
                    line["service"]["state"] = state
            lines.append(line)
        return lines

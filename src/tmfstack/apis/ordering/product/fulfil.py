"""The fulfilment seam: how an order item becomes (or changes) what the customer owns.

``Fulfiller.fulfil`` runs inside the order step's unit of work and returns the item's
new state: "completed" when done, "inProgress" when it waits for something outside
(issue 4's decomposition into service orders answers "inProgress" and completes the
item later), or raises ``ItemFailed`` with a reason.

``DirectFulfiller`` writes TMF637 products straight away:

- add: a product (created → active) with the offering, specification, characteristics
  (defaults filled), prices, the customer, billing account, a back-reference to the order
  item, and bundle children as ``product[]`` / ``productRelationship``; its id is derived
  from the order and item ids, so a step replayed after a crash cannot create it twice;
- modify: characteristic changes merged by name, ``status`` suspended / active;
- delete: active/suspended → pendingTerminate → terminated, with ``terminationDate``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Protocol

from ....clock import now_iso
from ....engine.access import with_partner
from ....errors import TmfError
from ....tmf import Doc
from ...catalog.characteristics import default_characteristics, merge_characteristics, plan_change
from ...catalog.view import PRODUCT_INVENTORY
from ...documents import customer_of
from ..shared import StepContext

if TYPE_CHECKING:
    from ....engine.service import ResourceService

_NAMESPACE = uuid.UUID("5d0f4c1e-7a52-4c8e-9d8e-2f1c3b6a9e10")


class ItemFailed(Exception):
    """The item cannot be fulfilled; the message is recorded on the order."""


class Fulfiller(Protocol):
    async def fulfil(self, ctx: StepContext, item: Doc) -> str: ...

    async def compensate(self, ctx: StepContext, item: Doc) -> None:
        """Undo what ``fulfil`` did for an item of a cancelled order."""

    async def cancel(self, ctx: StepContext, item: Doc) -> bool:
        """Stop an item's work in progress; True once nothing of it is running any more."""

    async def resume(self, ctx: StepContext, item: Doc) -> None:
        """The order was released from held: let the item's work go on."""


def product_id(order_id: str, item_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{order_id}/{item_id}"))


def _ref(doc: Doc | None, referred: str | None = None) -> Doc | None:
    """Unlike ``tmf.ref``: None when there is no document (the caller then keeps the order's own
    reference), and an attribute the catalog holds as null is copied as null."""
    if not doc:
        return None
    ref: Doc = {k: doc[k] for k in ("id", "href", "name") if k in doc}
    if referred:
        ref["@referredType"] = referred
    return ref


def _product_prices(item: Doc) -> list[Doc]:
    out = []
    for price in item.get("itemPrice") or []:
        entry = {k: price[k] for k in ("name", "priceType", "recurringChargePeriod", "unitOfMeasure") if k in price}
        entry.setdefault("priceType", "recurring")
        entry["price"] = price.get("price") or {}
        if price.get("productOfferingPrice"):
            entry["productOfferingPrice"] = price["productOfferingPrice"]
        out.append(entry)
    return out


class DirectFulfiller:
    def _products(self, ctx: StepContext) -> ResourceService:
        return ctx.engine.resource(PRODUCT_INVENTORY, "product")

    async def fulfil(self, ctx: StepContext, item: Doc, realizing: dict[str, list[Doc]] | None = None) -> str:
        """``realizing``: product order item id → the services that realise its product."""
        action = item.get("action")
        if action == "add":
            await self._add(ctx, item, realizing or {})
        elif action == "modify":
            await self._modify(ctx, item)
        elif action == "delete":
            await self._delete(ctx, item)
        return "completed"

    def _order_ref(self, ctx: StepContext, item: Doc) -> Doc:
        return {
            "orderItemId": item["id"],
            "productOrderId": ctx.order["id"],
            "productOrderHref": ctx.order.get("href"),
            "orderItemAction": item.get("action"),
            "@referredType": "ProductOrder",
        }

    async def cancel(self, ctx: StepContext, item: Doc) -> bool:
        return True  # nothing runs outside the order step

    async def resume(self, ctx: StepContext, item: Doc) -> None:
        return None

    async def _add(self, ctx: StepContext, item: Doc, realizing: dict[str, list[Doc]] | None = None) -> Doc:
        offering = await ctx.view.offering((item.get("productOffering") or {}).get("id")) or {}
        spec = await ctx.view.specification((offering.get("productSpecification") or {}).get("id"))
        wanted = item.get("product") or {}
        children = []
        for child in item.get("productOrderItem") or []:
            children.append(await self._add(ctx, child, realizing))
        customer = customer_of(ctx.order)
        parties = with_partner(
            [{**customer, "role": customer.get("role") or "customer"}] if customer else [], ctx.order
        )
        body: Doc = {
            "id": product_id(ctx.order["id"], item["id"]),
            "name": offering.get("name") or wanted.get("name") or "product",
            "status": "created",
            "isBundle": bool(offering.get("isBundle")),
            "productOffering": _ref(offering, "ProductOffering") or item.get("productOffering"),
            "productCharacteristic": default_characteristics(spec, wanted.get("productCharacteristic") or [], offering),
            "productPrice": _product_prices(item),
            "relatedParty": parties,
            "productOrderItem": [self._order_ref(ctx, item)],
            "orderDate": ctx.order.get("orderDate"),
        }
        spec_ref = _ref(spec, "ProductSpecification") or wanted.get("productSpecification")
        if spec_ref:
            body["productSpecification"] = spec_ref
        services = (realizing or {}).get(item["id"])
        if services:
            body["realizingService"] = [{**s, "@referredType": "Service"} for s in services]
        billing = item.get("billingAccount") or ctx.order.get("billingAccount")
        if billing:
            body["billingAccount"] = billing
        for key in ("place", "productSerialNumber", "productTerm", "isCustomerVisible"):
            if key in wanted:
                body[key] = wanted[key]
        if children:
            refs = [{"id": c["id"], "href": c["href"], "name": c.get("name")} for c in children]
            body["product"] = refs
            body["productRelationship"] = [{"relationshipType": "bundles", "product": r} for r in refs]
        products = self._products(ctx)
        created, _, _ = await products.create(body, keep_id=True, unit=ctx.unit)
        started = now_iso()
        active, _, _ = await products.update(
            created["id"], lambda d: {**d, "status": "active", "startDate": started}, unit=ctx.unit
        )
        return active

    async def _target(self, ctx: StepContext, item: Doc) -> str:
        product_id_ = (item.get("product") or {}).get("id")
        if not product_id_ or await ctx.view.product(product_id_) is None:
            raise ItemFailed(f"product {product_id_!r} is not in the inventory")
        return product_id_

    async def _modify(self, ctx: StepContext, item: Doc) -> None:
        target = await self._target(ctx, item)
        wanted = item.get("product") or {}
        new_offering = await ctx.view.offering((item.get("productOffering") or {}).get("id"))
        current = await ctx.view.product(target) or {}
        forced: list[Doc] = []
        if new_offering and new_offering["id"] != (current.get("productOffering") or {}).get("id"):
            spec = await ctx.view.specification((current.get("productSpecification") or {}).get("id"))
            forced = plan_change(spec, current.get("productCharacteristic") or [], new_offering)

        def change(doc: Doc) -> Doc:
            changes = [*forced, *(wanted.get("productCharacteristic") or [])]
            doc["productCharacteristic"] = merge_characteristics(doc.get("productCharacteristic") or [], changes)
            if new_offering and new_offering["id"] != (doc.get("productOffering") or {}).get("id"):
                doc["productOffering"] = _ref(new_offering, "ProductOffering")  # a plan change
                doc["name"] = new_offering.get("name", doc.get("name"))
            if wanted.get("status") in ("active", "suspended"):
                doc["status"] = wanted["status"]
            doc["productOrderItem"] = [*(doc.get("productOrderItem") or []), self._order_ref(ctx, item)]
            return doc

        try:
            await self._products(ctx).update(target, change, unit=ctx.unit)
        except TmfError as exc:
            raise ItemFailed(exc.message) from None

    async def _delete(self, ctx: StepContext, item: Doc) -> None:
        target = await self._target(ctx, item)
        await self.terminate(ctx, target, item)

    async def terminate(self, ctx: StepContext, target: str, item: Doc | None = None) -> None:
        """Terminate a product and, for a bundle, its children still in service."""
        products = self._products(ctx)
        ref = [self._order_ref(ctx, item)] if item else []
        for child in (await ctx.view.product(target) or {}).get("product") or []:
            current = await products.read(child.get("id", ""), ctx.unit)
            if current is not None and current.get("status") in ("active", "suspended"):
                await self.terminate(ctx, child["id"], item)

        def pending(doc: Doc) -> Doc:
            return {
                **doc,
                "status": "pendingTerminate",
                "productOrderItem": [*(doc.get("productOrderItem") or []), *ref],
            }

        try:
            await products.update(target, pending, unit=ctx.unit)
            ended = now_iso()
            await products.update(
                target, lambda d: {**d, "status": "terminated", "terminationDate": ended}, unit=ctx.unit
            )
        except TmfError as exc:
            raise ItemFailed(exc.message) from None

    async def compensate(self, ctx: StepContext, item: Doc) -> None:
        if item.get("action") != "add":
            return  # a modify or delete already applied is reported, not reversed
        for child in item.get("productOrderItem") or []:
            await self.compensate(ctx, child)
        target = product_id(ctx.order["id"], item["id"])
        current = await self._products(ctx).read(target, ctx.unit)
        if current is not None and current.get("status") in ("active", "suspended"):
            await self.terminate(ctx, target)

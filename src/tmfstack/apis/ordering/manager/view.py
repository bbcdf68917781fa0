"""What the order manager's rules read: catalog entities and the customer's inventory.

Reads go through the unit's transaction, so a step sees one consistent state. A
``CatalogView`` caches within one step (an order may name the same offering twice).
"""

from __future__ import annotations

from typing import Any

import orjson

from ...catalog.chain import ChainView
from ..flow import customer_of

__all__ = ["CatalogView", "customer_of"]

Doc = dict[str, Any]

CATALOG_ROOT = "/tmf-api/productCatalogManagement/v4"
INVENTORY_ROOT = "/tmf-api/productInventory/v4"


class CatalogView(ChainView):
    """The product catalog, the customer's products, and (``ChainView``) the service chain."""

    async def offering(self, id: str | None) -> Doc | None:
        return await self.read(CATALOG_ROOT, "productOffering", id)

    async def price(self, id: str | None) -> Doc | None:
        return await self.read(CATALOG_ROOT, "productOfferingPrice", id)

    async def product(self, id: str | None) -> Doc | None:
        return await self.read(INVENTORY_ROOT, "product", id)

    async def customer_products(self, customer_id: str, statuses: tuple[str, ...] = ("active",)) -> list[Doc]:
        """The customer's products in the given statuses (both filters use indexes)."""
        svc = self.engine.services[INVENTORY_ROOT]["product"]
        query = svc.parse([("status", ",".join(statuses)), ("relatedParty.id", customer_id)])
        return [orjson.loads(raw) for raw in await svc.list_all(query)]

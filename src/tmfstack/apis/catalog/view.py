"""What the order and qualification rules read: catalog entities and the customer's inventory.

Reads go through the unit's transaction, so a step sees one consistent state. A
``CatalogView`` caches within one step (an order may name the same offering twice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ...engine import access
from ...tmf import Doc
from .chain import ChainView

__all__ = ["CatalogView"]


PRODUCT_CATALOG = "tmf620"
PRODUCT_INVENTORY = "tmf637"


if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit


class CatalogView(ChainView):
    """The product catalog, the customer's products, and (``ChainView``) the service chain.

    For a partner's order (``partner``: its Seller) the inventory is seen as the partner sees
    it: a product of another channel is not there, so an order or a qualification cannot
    touch, or learn of, what the partner may not read.
    """

    def __init__(self, engine: Engine, unit: Unit, partner: str | None = None) -> None:
        super().__init__(engine, unit)
        self.partner = partner

    async def offering(self, id: str | None) -> Doc | None:
        return await self.read(PRODUCT_CATALOG, "productOffering", id)

    async def price(self, id: str | None) -> Doc | None:
        return await self.read(PRODUCT_CATALOG, "productOfferingPrice", id)

    async def product(self, id: str | None) -> Doc | None:
        found = await self.read(PRODUCT_INVENTORY, "product", id)
        return found if found is None or access.visible(found, self.partner) else None

    async def customer_products(self, customer_id: str, statuses: tuple[str, ...] = ("active",)) -> list[Doc]:
        """The customer's products in the given statuses (both filters use indexes)."""
        svc = self.engine.resource(PRODUCT_INVENTORY, "product")
        query = svc.parse([("status", ",".join(statuses)), ("relatedParty.id", customer_id)])
        return [orjson.loads(raw) for raw in await svc.list_all(query, party=self.partner)]

"""Where a product is, v4 -> v5: v4 ``RelatedPlaceRefOrValue`` is the place's own attributes and a
``role``; v5 wraps the place: ``{role, place: PlaceRef | GeographicAddress | ...}``.

An item's ``product.place`` (``PRODUCT_PLACE``) in a TMF679 v5 check (and a query's ``searchCriteria.product``), as the
qualification rules read it (``eligibility._place_of``), with the place rule every API shares
(``generations.RELATED_PLACE``).
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ..generations import RELATED_PLACE

_REF = frozenset({"id", "href", "name", "@referredType"})


def _product(convert: Any, typed: bool) -> Any:
    def product(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {**value, "place": convert(value["place"])} if "place" in value else dict(value)
        if typed and "@type" not in out:  # v5 tells a product from a reference to one by @type
            out["@type"] = "ProductRef" if set(out) <= _REF else "Product"
        return out

    return product


#: an item's ``product`` with its places mapped: placed on the item, as a product without ``@type``
#: (a v4 item's) is a ``ProductRefOrValue`` whose plan has no ``place`` to place ``PLACE`` on
PRODUCT_PLACE = Attr(
    "product",
    out=_product(RELATED_PLACE.render, typed=True),
    into=_product(RELATED_PLACE.accept, typed=False),
    paths={f"place.place.{k}": f"place.{k}" for k in ("id", "href", "name")},
)

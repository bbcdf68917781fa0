"""TMF637 Product Inventory v5: the v4 products, mapped at the edge (``engine/versions.py``).

=====================================================  ===================================================
v4 (stored)                                            v5 (served)
=====================================================  ===================================================
``relatedParty[] {id, href, name, role}``              ``relatedParty[] {role, partyOrPartyRole: PartyRef}``
``productCharacteristic[] {name, value}``              ``{name, value, @type: StringCharacteristic…}``
``agreement[] {id, href, name, agreementItemId}``      ``agreementItem[] {agreementId, agreementHref,``
                                                       ``agreementName, agreementItemId}``
``productOrderItem[] {productOrderId,``                ``productOrderItem[] RelatedOrderItem {orderId,``
``productOrderHref, orderItemId, orderItemAction}``    ``orderHref, orderItemId, orderItemAction}``
``productPrice[].productPriceAlteration``              ``productPrice[].priceAlteration``
``productRelationship[] {relationshipType,``           ``productRelationship[] {relationshipType, id,``
``product: ProductRefOrValue}``                        ``href, name, @referredType}``
``place[] {id, href, name, role}``                     ``place[] {role, place: PlaceRef}``
-                                                      ``creationDate``, ``intent`` (kept as given)
=====================================================  ===================================================

Products stay the order manager's (``tmf637.PRODUCT_OWNERSHIP``) whichever version writes them.
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import VersionDecl
from ...tmf import Doc
from ..generations import RELATED_PLACE, V5_COMMON
from . import tmf637

_REF = ("id", "href", "name", "@referredType")


def _relationship_out(item: Any) -> Any:
    """v4 ``{relationshipType, product: {id, href, …}}`` -> v5's flat ``{relationshipType, id, href, …}``."""
    if not isinstance(item, dict) or not isinstance(item.get("product"), dict):
        return item
    out: Doc = {k: v for k, v in item.items() if k != "product"}
    out.update({k: item["product"][k] for k in _REF if k in item["product"]})
    return out


def _relationship_in(item: Any) -> Any:
    if not isinstance(item, dict) or "product" in item:
        return item
    out: Doc = {k: v for k, v in item.items() if k not in _REF}
    out["product"] = {k: item[k] for k in _REF if k in item}
    return out


def _each(convert: Any) -> Any:
    return lambda value: [convert(v) for v in value] if isinstance(value, list) else convert(value)


API = VersionDecl.build(
    "TMF637-ProductInventory-v5.0.0.oas.yaml",
    of=tmf637.API,
    rules=[
        *V5_COMMON,
        RELATED_PLACE,
        Attr("agreementItem", canonical="agreement"),
        # AgreementItemRef: the agreement's own reference attributes are prefixed in v5
        Attr("agreementId", canonical="id"),
        Attr("agreementHref", canonical="href"),
        Attr("agreementName", canonical="name"),
        # RelatedProductOrderItem -> RelatedOrderItem
        Attr("orderId", canonical="productOrderId"),
        Attr("orderHref", canonical="productOrderHref"),
        Attr("priceAlteration", canonical="productPriceAlteration"),
        Attr(
            "productRelationship",
            out=_each(_relationship_out),
            into=_each(_relationship_in),
            paths={k: f"product.{k}" for k in _REF},
        ),
    ],
)

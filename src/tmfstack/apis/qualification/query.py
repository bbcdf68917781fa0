"""TMF679 v5 ``queryProductOfferingQualification``: what may this customer buy here?

v4 has no resource for it (a v4 qualification names a category and gets an item per offering of
it); v5 serves it as a resource of its own, stored in its v5 shape. It is answered by the same
rules as a qualification (``poq.qualify``): the query is read as the v4 qualification it means —
the customer and the partner (``relatedParty``), the channel, the place of
``searchCriteria.product`` on every item, each candidate offering judged on its own — and the
offerings that qualify are listed in ``qualifiedProductOfferingItem``. The candidates are
``searchCriteria.productOffering`` when it names one, else the offerings of
``searchCriteria.category`` (or of every category of a catalog by that id), else every offering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ...engine.access import partner_of
from ...tmf import Doc
from ..catalog.view import PRODUCT_CATALOG, CatalogView
from ..generations import RELATED_PARTY
from .places import PLACE
from .poq import qualify

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

#: the offering reference of a listed item, as the v5 schema names it
_OFFERING_REF = "ProductOfferingRef"


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def as_qualification(query: Doc) -> Doc:
    """The v4 qualification a query means (relatedParty, channel and place in the stored shape)."""
    criteria = query.get("searchCriteria") or {}
    product: Doc = criteria["product"] if isinstance(criteria.get("product"), dict) else {}
    poq: Doc = {
        "relatedParty": RELATED_PARTY.accept(query.get("relatedParty") or []),
        "place": PLACE.accept(product.get("place") or []),
        "provideOnlyAvailable": True,
        "provideUnavailabilityReason": False,
    }
    if isinstance(query.get("channel"), dict):
        poq["channel"] = query["channel"]
    category = _id(criteria.get("category"))
    if category:
        poq["category"] = {"id": category}
    return poq


async def _candidates(engine: Engine, view: CatalogView, criteria: Doc) -> list[Doc] | None:
    """The offering named, every offering when neither an offering nor a category is, else None
    (the category's: ``qualify`` walks it)."""
    offering = _id(criteria.get("productOffering"))
    if offering:
        found = await view.offering(offering)
        return [found] if found else []
    if _id(criteria.get("category")):
        return None
    svc = engine.resource(PRODUCT_CATALOG, "productOffering")
    return [orjson.loads(raw) for raw in await svc.list_all(svc.parse([]))]


async def answer_query(engine: Engine, unit: Unit, query: Doc) -> None:
    """Answer the query in place: the qualifying offerings, the answer's validity, ``done``."""
    poq = as_qualification(query)
    view = CatalogView(engine, unit, partner_of(poq))
    candidates = await _candidates(engine, view, query.get("searchCriteria") or {})
    await qualify(engine, unit, poq, candidates)
    query["qualifiedProductOfferingItem"] = [
        {
            "id": str(n),
            "productOffering": {**item["productOffering"], "@type": _OFFERING_REF},
            "@type": "QueryProductOfferingQualificationItem",
        }
        for n, item in enumerate(poq.get("productOfferingQualificationItem") or [], 1)
        if item.get("qualificationItemResult") == "qualified"
    ]
    for key in ("effectiveQualificationDate", "expirationDate", "state"):
        query[key] = poq[key]

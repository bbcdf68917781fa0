"""Product offering qualification: is this offer commercially valid for this customer, now?

The items are checked like order items (``ordering/manager/validate.py``: the offering exists,
is Active/Launched, sellable and valid on the qualification date; bundle option limits;
``requires``/``excludes`` against the other items and the customer's active products; modify
and delete items name the customer's own products) and for eligibility
(``ordering/manager/eligibility.py``: the requesting channel, the customer's market segment,
the place's region, the parties). Technical serviceability is TMF645's question, not this
one's. Without items, a ``category`` (or a catalog id there) asks which of its offerings
qualify: each becomes an item. Each item gets ``qualificationItemResult``:

- ``qualified``: nothing stands in the way;
- ``alternate``: it does not qualify, but (``provideAlternative``) another offering would: the
  successor the catalog names (``exchangableTo``, ``substitution``…) or another sellable
  offering of the same product specification for a retired or expired offer, or the offering a
  ``requires`` relationship asks for (the base plan an add-on needs);
- ``unqualified``: it does not qualify and nothing is proposed.

``eligibilityUnavailabilityReason`` carries each reason as a stable code and a readable label
(unless ``provideUnavailabilityReason`` is false); ``provideOnlyAvailable`` leaves out the
items that do not qualify. The whole answer expires after ``task.validity`` (24 h by default).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from ...clock import iso
from ..ordering.manager.validate import offering_orderable, validate_order
from ..ordering.manager.view import CATALOG_ROOT, CatalogView
from .task import overall, validity

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.unit import Unit

Doc = dict[str, Any]
_NOT_ORDERABLE = frozenset({"OFFERING_NOT_ORDERABLE", "OFFERING_NOT_SELLABLE", "OFFERING_NOT_VALID"})
#: relationship types by which a catalog names an offering's successor
_SUCCESSOR = frozenset({"exchangableto", "exchangeableto", "substitution", "replacedby", "upgrade"})
_REQUIRES = frozenset({"requires", "requiresone", "dependency"})
#: an incomplete configuration (a characteristic or a bundle's children not given yet) is the
#: order's business, not eligibility's
_CONFIGURATION = frozenset({"CHARACTERISTIC_MISSING", "BUNDLE_ITEMS_MISSING"})


def _as_order(poq: Doc) -> Doc:
    """The qualification's items as the order the customer would place: its channel, and its
    place on every item that names none."""
    items = []
    for item in poq.get("productOfferingQualificationItem") or []:
        line = {k: item[k] for k in ("id", "productOffering", "product") if k in item}
        if poq.get("place") and not (line.get("product") or {}).get("place"):
            line["product"] = {**(line.get("product") or {}), "place": poq["place"]}
        line["action"] = item.get("action") or "add"
        line["quantity"] = 1
        items.append(line)
    channel = poq.get("channel") if isinstance(poq.get("channel"), dict) else None
    return {
        "relatedParty": poq.get("relatedParty") or [],
        "channel": [channel] if channel else [],
        "productOrderItem": items,
    }


async def _category_offerings(engine: Engine, view: CatalogView, category_id: str) -> list[Doc]:
    """The offerings of a category and its sub-categories, or of every category of a catalog."""
    categories = engine.services[CATALOG_ROOT]["category"]
    catalog = await view._get(CATALOG_ROOT, "catalog", category_id)
    todo = [c["id"] for c in (catalog or {}).get("category") or [] if c.get("id")] if catalog else [category_id]
    seen: set[str] = set()
    while todo:  # the hierarchy, breadth first
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        doc = await view._get(CATALOG_ROOT, "category", current)
        todo += [c["id"] for c in (doc or {}).get("subCategory") or [] if c.get("id")]
        children = await categories.list_all(categories.parse([("parentId", current)]))
        todo += [orjson.loads(raw)["id"] for raw in children]
    svc = engine.services[CATALOG_ROOT]["productOffering"]
    found: dict[str, Doc] = {}
    for current in sorted(seen):
        for raw in await svc.list_all(svc.parse([("category.id", current)])):
            doc = orjson.loads(raw)
            found.setdefault(doc["id"], doc)
    return list(found.values())


async def _orderable_related(view: CatalogView, offering: Doc, kinds: frozenset[str], now: datetime) -> list[Doc]:
    """The orderable offerings ``offering`` names by a relationship of one of ``kinds``."""
    found = []
    for rel in offering.get("productOfferingRelationship") or []:
        if str(rel.get("relationshipType", "")).casefold() in kinds:
            other = await view.offering(rel.get("id"))
            if other and not offering_orderable(None, other, now):
                found.append(other)
    return found


async def _alternates(engine: Engine, view: CatalogView, offering: Doc, codes: set[str]) -> list[Doc]:
    found: list[Doc] = []
    now = datetime.now(UTC)
    if codes & _NOT_ORDERABLE:
        found += await _orderable_related(view, offering, _SUCCESSOR, now)  # a successor the catalog names
        spec_id = (offering.get("productSpecification") or {}).get("id")
        if spec_id:
            known = {o["id"] for o in found} | {offering["id"]}
            svc = engine.services[CATALOG_ROOT]["productOffering"]
            query = svc.parse([("productSpecification.id", spec_id), ("limit", "20")])
            for raw in (await svc.list(query)).items:
                other = orjson.loads(raw)
                if other["id"] not in known and not offering_orderable(None, other, now):
                    found.append(other)
                    known.add(other["id"])
    if "OFFERING_REQUIREMENT_MISSING" in codes:
        found += await _orderable_related(view, offering, _REQUIRES, now)
    return [
        {
            "id": str(n),
            "alternateProductOffering": _offering_ref(o),
            "@type": "AlternateProductOfferingProposal",
        }
        for n, o in enumerate(found, 1)
    ]


def _offering_ref(offering: Doc) -> Doc:
    return {"id": offering["id"], "href": offering.get("href"), "name": offering.get("name")}


async def qualify(engine: Engine, unit: Unit, poq: Doc) -> None:
    """Answer the qualification in place: item results, reasons, alternates, state ``done``."""
    view = CatalogView(engine, unit)
    answered = datetime.now(UTC)
    when = iso(answered)
    category = (poq.get("category") or {}).get("id")
    if category and not poq.get("productOfferingQualificationItem"):  # the query form
        poq["productOfferingQualificationItem"] = [
            {"id": str(n), "action": "add", "productOffering": _offering_ref(o), "state": "acknowledged"}
            for n, o in enumerate(await _category_offerings(engine, view, category), 1)
        ]
    problems = await validate_order(_as_order(poq), view, when, technical=False)
    problems = [p for p in problems if p.code not in _CONFIGURATION]
    general = [p for p in problems if p.item is None]
    results = []
    kept = []
    for item in poq.get("productOfferingQualificationItem") or []:
        mine = general + [p for p in problems if p.item == item.get("id")]
        result = "qualified"
        if mine:
            result = "unqualified"
            offering = await view.offering((item.get("productOffering") or {}).get("id"))
            if poq.get("provideAlternative") and offering:
                proposals = await _alternates(engine, view, offering, {p.code for p in mine})
                if proposals:
                    item["alternateProductOfferingProposal"] = proposals
                    result = "alternate"
            if poq.get("provideUnavailabilityReason", True):
                item["eligibilityUnavailabilityReason"] = [
                    {"code": p.code, "label": p.message, "@type": "EligibilityUnavailabilityReason"} for p in mine
                ]
        item["qualificationItemResult"] = result
        item["state"] = "done"
        results.append(result)
        if result == "qualified" or not poq.get("provideOnlyAvailable"):
            kept.append(item)
    poq["productOfferingQualificationItem"] = kept
    poq["qualificationResult"] = overall(results)
    poq["effectiveQualificationDate"] = iso(answered)
    poq["expirationDate"] = iso(answered + validity(engine))
    poq["state"] = "done"

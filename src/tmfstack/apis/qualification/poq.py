"""Product offering qualification: is this offer commercially valid for this customer, now?

The items are checked like order items (``qualification/validate.py``: the offering exists,
is Active/Launched, sellable and valid on the qualification date; bundle option limits;
``requires``/``excludes`` against the other items and the customer's active products; modify
and delete items name the customer's own products) and for eligibility
(``qualification/eligibility.py``: the requesting channel, the customer's market segment,
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

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from ...clock import iso
from ...engine.access import partner_of
from ...tmf import Doc, ref
from ..catalog.rules import Problem, walk_items
from ..catalog.view import PRODUCT_CATALOG, CatalogView
from ..documents import customer_of
from .eligibility import EligibilityCache, eligibility
from .task import overall, validity
from .validate import offering_orderable, validate_order

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

#: reasons another offering of the same kind may cure: not sellable now, or not to this
#: customer, through this channel, at this place
_REPLACEABLE = frozenset(
    {
        "OFFERING_NOT_ORDERABLE",
        "OFFERING_NOT_SELLABLE",
        "OFFERING_NOT_VALID",
        "MARKET_SEGMENT_NOT_ELIGIBLE",
        "CHANNEL_NOT_ALLOWED",
        "PLACE_NOT_ELIGIBLE",
    }
)
#: relationship types by which a catalog names an offering's successor
_SUCCESSOR = frozenset({"exchangableto", "exchangeableto", "substitution", "replacedby", "upgrade"})
_REQUIRES = frozenset({"requires", "requiresone", "dependency"})
#: qualification item relationship types that make the target a bundle's component
_BUNDLES = frozenset({"bundles", "bundled", "contains", "haspart"})
#: an incomplete configuration (a characteristic or a bundle's children not given yet) is the
#: order's business, not eligibility's
_CONFIGURATION = frozenset({"CHARACTERISTIC_MISSING", "BUNDLE_ITEMS_MISSING"})


def _as_order(poq: Doc) -> Doc:
    """The qualification's items as the order the customer would place: its channel, its place
    on every item that names none, and items a bundle item relates to (``bundles``) as that
    bundle's children, so bundle option limits apply."""
    lines: dict[str, Doc] = {}
    for item in poq.get("productOfferingQualificationItem") or []:
        line = {k: item[k] for k in ("id", "productOffering", "product") if k in item}
        if poq.get("place") and not (line.get("product") or {}).get("place"):
            line["product"] = {**(line.get("product") or {}), "place": poq["place"]}
        line["action"] = item.get("action") or "add"
        line["quantity"] = 1
        lines[str(item.get("id"))] = line
    children: set[str] = set()
    for item in poq.get("productOfferingQualificationItem") or []:
        if str(item.get("id")) in children:
            continue  # one level: a component adopts nothing (and no cycle can form)
        for rel in item.get("qualificationItemRelationship") or []:
            child = str(rel.get("id"))
            kind = str(rel.get("relationshipType", "")).casefold()
            if kind in _BUNDLES and child in lines and child != str(item.get("id")) and child not in children:
                lines[str(item.get("id"))].setdefault("productOrderItem", []).append(lines[child])
                children.add(child)
    channel = poq.get("channel") if isinstance(poq.get("channel"), dict) else None
    return {
        "relatedParty": poq.get("relatedParty") or [],
        "channel": [channel] if channel else [],
        "productOrderItem": [line for key, line in lines.items() if key not in children],
    }


async def _category_offerings(engine: Engine, view: CatalogView, category_id: str) -> list[Doc]:
    """The offerings of a category and its sub-categories, or of every category of a catalog."""
    categories = engine.resource(PRODUCT_CATALOG, "category")
    catalog = await view.read(PRODUCT_CATALOG, "catalog", category_id)
    todo = [c["id"] for c in (catalog or {}).get("category") or [] if c.get("id")] if catalog else [category_id]
    seen: set[str] = set()
    while todo:  # the hierarchy, breadth first
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        doc = await view.read(PRODUCT_CATALOG, "category", current)
        todo += [c["id"] for c in (doc or {}).get("subCategory") or [] if c.get("id")]
        children = await categories.list_all(categories.parse([("parentId", current)]))
        todo += [orjson.loads(raw)["id"] for raw in children]
    svc = engine.resource(PRODUCT_CATALOG, "productOffering")
    found: dict[str, Doc] = {}
    for current in sorted(seen):
        for raw in await svc.list_all(svc.parse([("category.id", current)])):
            doc = orjson.loads(raw)
            found.setdefault(doc["id"], doc)
    return list(found.values())


Fits = Callable[[Doc], Awaitable[bool]]


async def _related(view: CatalogView, offering: Doc, kinds: frozenset[str], fits: Fits) -> list[Doc]:
    """The offerings ``offering`` names by a relationship of one of ``kinds`` that would qualify."""
    found = []
    for rel in offering.get("productOfferingRelationship") or []:
        if str(rel.get("relationshipType", "")).casefold() in kinds:
            other = await view.offering(rel.get("id"))
            if other and await fits(other):
                found.append(other)
    return found


async def _alternates(engine: Engine, view: CatalogView, offering: Doc, codes: set[str], fits: Fits) -> list[Doc]:
    """Offerings that would qualify in this one's place: a successor the catalog names or a
    sibling of the same specification (for an offer not sellable here, now, to this
    customer), the offering an unmet ``requires`` asks for."""
    found: list[Doc] = []
    if codes & _REPLACEABLE:
        found += await _related(view, offering, _SUCCESSOR, fits)
        spec_id = (offering.get("productSpecification") or {}).get("id")
        if spec_id:
            known = {o["id"] for o in found} | {offering["id"]}
            svc = engine.resource(PRODUCT_CATALOG, "productOffering")
            query = svc.parse([("productSpecification.id", spec_id), ("limit", "20")])
            for raw in (await svc.list(query)).items:
                other = orjson.loads(raw)
                if other["id"] not in known and await fits(other):
                    found.append(other)
                    known.add(other["id"])
    if "OFFERING_REQUIREMENT_MISSING" in codes:
        found += await _related(view, offering, _REQUIRES, fits)
    return [
        {
            "id": str(n),
            "alternateProductOffering": ref(o, "ProductOffering"),
            "@type": "AlternateProductOfferingProposal",
        }
        for n, o in enumerate(found, 1)
    ]


def _fitting(market: EligibilityCache, line: Doc, when: datetime) -> Fits:
    async def fits(other: Doc) -> bool:
        """Whether an alternative would qualify for this customer, channel and place."""
        if offering_orderable(None, other, when):
            return False
        return not await eligibility(None, line, other, market)

    return fits


async def qualify(engine: Engine, unit: Unit, poq: Doc, offerings: list[Doc] | None = None) -> None:
    """Answer the qualification in place: item results, reasons, alternates, state ``done``.
    ``offerings``: the query form's candidates (TMF679 v5 query), else a category's offerings
    when the qualification names one and no items."""
    view = CatalogView(engine, unit, partner_of(poq))
    answered = datetime.now(UTC)
    when = iso(answered)
    category = (poq.get("category") or {}).get("id")
    if offerings is None and category and not poq.get("productOfferingQualificationItem"):
        offerings = await _category_offerings(engine, view, category)
    query_form = offerings is not None
    if offerings is not None:
        poq["productOfferingQualificationItem"] = [
            {"id": str(n), "action": "add", "productOffering": ref(o, "ProductOffering"), "state": "acknowledged"}
            for n, o in enumerate(offerings, 1)
        ]
    as_order = _as_order(poq)
    customer = customer_of(as_order)
    market = EligibilityCache.of(as_order, view, customer.get("id") if customer else None)  # one party read for all
    if query_form:  # each offering on its own: they are alternatives, not one basket
        found: list[Problem] = []
        for line in as_order["productOrderItem"]:
            one = {**as_order, "productOrderItem": [line]}
            found += await validate_order(one, view, when, technical=False, market=market)
        problems = list(dict.fromkeys(found))  # the order-level ones (a party's) come once per line
    else:
        problems = await validate_order(as_order, view, when, technical=False, market=market)
    problems = [p for p in problems if p.code not in _CONFIGURATION]
    general = [p for p in problems if p.item is None]
    results = []
    kept = []
    lines = {line.get("id"): line for line in walk_items(as_order["productOrderItem"])}
    for item in poq.get("productOfferingQualificationItem") or []:
        mine = general + [p for p in problems if p.item == item.get("id")]
        fits = _fitting(market, lines.get(item.get("id")) or {}, answered)

        result = "qualified"
        if mine:
            result = "unqualified"
            offering = await view.offering((item.get("productOffering") or {}).get("id"))
            if poq.get("provideAlternative") and offering:
                proposals = await _alternates(engine, view, offering, {p.code for p in mine}, fits)
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

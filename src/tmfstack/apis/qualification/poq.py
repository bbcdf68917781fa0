"""Product offering qualification: is this offer commercially valid for this customer, now?

The items are checked like order items (``ordering/manager/validate.py``: the offering exists,
is Active/Launched, sellable and valid on the qualification date; bundle option limits;
``requires``/``excludes`` against the other items and the customer's active products; modify
and delete items name the customer's own products) plus the requesting channel, which must be
one of the offering's channels when it lists any. Each item gets ``qualificationItemResult``:

- ``qualified``: nothing stands in the way;
- ``alternate``: it does not qualify, but (``provideAlternative``) another offering would: the
  successor the catalog names (``exchangableTo``, ``substitution``…) or another sellable
  offering of the same product specification for a retired or expired offer, or the offering a
  ``requires`` relationship asks for (the base plan an add-on needs);
- ``unqualified``: it does not qualify and nothing is proposed.

``eligibilityUnavailabilityReason`` carries each reason as a stable code and a readable label
(unless ``provideUnavailabilityReason`` is false); ``provideOnlyAvailable`` leaves out the
items that do not qualify. The whole answer expires after ``QUALIFICATION_VALIDITY``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from ...clock import iso
from ..ordering.manager.common import Problem
from ..ordering.manager.validate import offering_orderable, validate_order
from ..ordering.manager.view import CATALOG_ROOT, CatalogView

if TYPE_CHECKING:
    from ...engine.registry import Engine
    from ...engine.unit import Unit

Doc = dict[str, Any]
#: how long an answer holds (an order referring to an older one is checked again)
QUALIFICATION_VALIDITY = timedelta(hours=24)
_NOT_ORDERABLE = frozenset({"OFFERING_NOT_ORDERABLE", "OFFERING_NOT_SELLABLE", "OFFERING_NOT_VALID"})
#: relationship types by which a catalog names an offering's successor
_SUCCESSOR = frozenset({"exchangableto", "exchangeableto", "substitution", "replacedby", "upgrade"})
_REQUIRES = frozenset({"requires", "requiresone", "dependency"})


def _as_order(poq: Doc) -> Doc:
    """The qualification's items as the order the customer would place."""
    items = []
    for item in poq.get("productOfferingQualificationItem") or []:
        line = {k: item[k] for k in ("id", "productOffering", "product") if k in item}
        line["action"] = item.get("action") or "add"
        line["quantity"] = 1
        items.append(line)
    return {"relatedParty": poq.get("relatedParty") or [], "productOrderItem": items}


async def _channel_problems(poq: Doc, view: CatalogView) -> list[Problem]:
    channel = (poq.get("channel") or {}).get("id")
    if not channel:
        return []
    out = []
    for item in poq.get("productOfferingQualificationItem") or []:
        offering = await view.offering((item.get("productOffering") or {}).get("id"))
        allowed = [c.get("id") for c in (offering or {}).get("channel") or []]
        if offering and allowed and channel not in allowed:
            out.append(
                Problem(
                    item.get("id"),
                    "CHANNEL_NOT_ALLOWED",
                    f"{offering.get('name')} is not sold through channel {channel}"
                    f" (only {', '.join(map(str, allowed))}).",
                )
            )
    return out


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
            "alternateProductOffering": {"id": o["id"], "href": o.get("href"), "name": o.get("name")},
            "@type": "AlternateProductOfferingProposal",
        }
        for n, o in enumerate(found, 1)
    ]


async def qualify(engine: Engine, unit: Unit, poq: Doc) -> None:
    """Answer the qualification in place: item results, reasons, alternates, state ``done``."""
    view = CatalogView(engine, unit)
    answered = datetime.now(UTC)
    when = iso(answered)
    problems = await validate_order(_as_order(poq), view, when) + await _channel_problems(poq, view)
    # an incomplete configuration is the order's business, not eligibility's
    problems = [p for p in problems if p.code != "CHARACTERISTIC_MISSING"]
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
    if results and all(r == "qualified" for r in results):
        poq["qualificationResult"] = "qualified"
    elif "unqualified" in results or not results:
        poq["qualificationResult"] = "unqualified"
    else:
        poq["qualificationResult"] = "alternate"
    poq["effectiveQualificationDate"] = iso(answered)
    poq["expirationDate"] = iso(answered + QUALIFICATION_VALIDITY)
    poq["state"] = "done"

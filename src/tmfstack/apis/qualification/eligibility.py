"""Commercial eligibility: may this customer buy this offering, through this channel, here?

Shared by the order manager and TMF679 qualification (which runs ``validate_order``):

- the channel the order comes through must be one of the offering's ``channel`` (when it lists any);
- the customer's market segments (``party/directory.py``) must be among the offering's
  ``marketSegment`` or below one in the segment hierarchy (a customer with no recorded
  segment is not judged);
- the place of the item (``product.place``) must lie in one of the offering's ``place``
  regions (region hierarchy and address areas: ``geography/places.py``);
- every party the order names that the server knows must be active and of the claimed type.

``qualification_problems`` checks the TMF679 qualifications an order refers to: they must
exist, be ``done``, be the same customer's, not be expired, and qualify the items they
cover. A covered item is not judged again on eligibility: the qualification holds until it
expires. Uncovered items get every check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...tmf import Doc, member
from ..catalog.characteristics import default_characteristics
from ..catalog.rules import Problem, _dicts, _label, _ref_id, parse_time, walk_items
from ..documents import customer_of
from ..geography.places import Reference, locate, reference
from ..geography.serviceability import Capacity, check
from ..party.directory import Directory

if TYPE_CHECKING:
    from ..catalog.view import CatalogView

QUALIFICATION = "tmf679"


def _place_of(item: Doc) -> Doc | None:
    product = member(item, "product")
    places = _dicts(product.get("place"))
    return places[0] if places else None


@dataclass
class EligibilityCache:
    """What eligibility reads, loaded lazily once per order."""

    view: CatalogView
    customer_id: str | None
    channels: set[str]
    directory: Directory
    start: str | None = None  #: when the order wants its items (``requestedStartDate``), else now
    _ref: Reference | None = None
    _segments: set[str] | None = None
    _regions: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, order: Doc, view: CatalogView, customer_id: str | None) -> EligibilityCache:
        channels = {c["id"] for c in _dicts(order.get("channel")) if isinstance(c.get("id"), str)}
        start = order.get("requestedStartDate") if isinstance(order.get("requestedStartDate"), str) else None
        return cls(view, customer_id, channels, Directory(view.engine, view.unit, view.partner), start)

    async def ref(self) -> Reference:
        if self._ref is None:
            self._ref = await reference(self.view.engine, self.view.unit)
        return self._ref

    async def segments(self) -> set[str]:
        if self._segments is None:
            self._segments = await self.directory.segments(self.customer_id) if self.customer_id else set()
        return self._segments

    async def region(self, place: Doc) -> str | None:
        key = repr(sorted(place.items()))
        if key not in self._regions:
            area = await locate(self.view.engine, self.view.unit, place)
            self._regions[key] = area.region if area else None
        return self._regions[key]


async def eligibility(item_id: str | None, item: Doc, offering: Doc, market: EligibilityCache) -> list[Problem]:
    who = _label(offering, offering.get("id"))
    problems = []
    allowed_channels = {c.get("id") for c in _dicts(offering.get("channel"))} - {None}
    if market.channels and allowed_channels and not market.channels & allowed_channels:
        problems.append(
            Problem(
                item_id,
                "CHANNEL_NOT_ALLOWED",
                f"{who} is not sold through channel {', '.join(sorted(market.channels))}"
                f" (only {', '.join(sorted(map(str, allowed_channels)))}).",
            )
        )
    segments = {s["id"] for s in _dicts(offering.get("marketSegment")) if s.get("id") is not None}
    mine = await market.segments() if segments else set()
    if mine and not (await market.ref()).segment_within(mine, segments):
        problems.append(
            Problem(
                item_id,
                "MARKET_SEGMENT_NOT_ELIGIBLE",
                f"{who} is for the {', '.join(sorted(segments))} segment; customer {market.customer_id} is "
                f"{', '.join(sorted(mine))}.",
            )
        )
    regions = {p["id"] for p in _dicts(offering.get("place")) if p.get("id") is not None}
    if regions:
        problems += await _place_problems(item_id, item, who, regions, market)
    return problems


async def _place_problems(
    item_id: str | None, item: Doc, who: str, regions: set[str], market: EligibilityCache
) -> list[Problem]:
    ref = await market.ref()
    names = ", ".join(ref.name_of(ref.regions, r) for r in sorted(regions))
    place = _place_of(item)
    if place is None:
        return [Problem(item_id, "PLACE_MISSING", f"{who} is sold only in {names}; the item names no place.")]
    region = await market.region(place)
    if region is None:
        return [Problem(item_id, "PLACE_UNKNOWN", f"{who} is sold only in {names}; the item's place is not known.")]
    if not ref.region_within(region, regions):
        here = ref.name_of(ref.regions, region)
        return [Problem(item_id, "PLACE_NOT_ELIGIBLE", f"{who} is sold only in {names}, not in {here}.")]
    return []


async def party_problems(order: Doc, market: EligibilityCache) -> list[Problem]:
    refs = list(_dicts(order.get("relatedParty")))
    for item in walk_items(order.get("productOrderItem") or ()):
        product = member(item, "product")
        refs += _dicts(product.get("relatedParty"))
    return [Problem(None, code, message) for code, message in await market.directory.problems(refs)]


async def service_problems(item_id: str | None, item: Doc, offering: Doc, market: EligibilityCache) -> list[Problem]:
    """Technical serviceability of the item's services at its place (when it names one and
    coverage data is loaded), so that an order does not fail late in fulfilment."""
    place = _place_of(item)
    if place is None or not (await market.ref()).loaded:
        return []
    view = market.view
    spec = await view.specification(_ref_id(offering, "productSpecification"))
    problems = []
    capacity = Capacity(view.engine, view.unit)
    product = member(item, "product")
    # the speeds the product will have: those asked for, else the offering's defaults
    chars = default_characteristics(spec, _dicts(product.get("productCharacteristic")), offering)
    for ref in _dicts((spec or {}).get("serviceSpecification")):
        cfs = await view.service_spec(ref.get("id"))
        if cfs is None:
            continue
        verdict = await check(view.engine, view.unit, cfs, place, chars, market.start, capacity=capacity)
        if verdict.result != "qualified":
            reasons = " ".join(label for _, label in verdict.reasons)
            problems.append(
                Problem(item_id, "SERVICE_NOT_AVAILABLE", f"{cfs.get('name')} cannot be delivered there: {reasons}")
            )
    return problems


# -- qualifications an order refers to ----------------------------------------------------


def _referenced(order: Doc) -> tuple[set[str], list[tuple[Doc, str, str | None]]]:
    """(qualifications named by the order, [(item, qualification id, qualification item id)])."""
    whole = {q["id"] for q in _dicts(order.get("productOfferingQualification")) if isinstance(q.get("id"), str)}
    per_item = []
    for item in walk_items(order.get("productOrderItem") or ()):
        ref = item.get("productOfferingQualificationItem")
        if isinstance(ref, dict) and isinstance(ref.get("productOfferingQualificationId"), str):
            per_item.append((item, ref["productOfferingQualificationId"], ref.get("id")))
        for q in _dicts(item.get("qualification")):
            if isinstance(q.get("id"), str):
                per_item.append((item, q["id"], None))
    return whole, per_item


async def qualification_problems(order: Doc, view: CatalogView, now: datetime | None) -> tuple[list[Problem], set[str]]:
    """Problems with the qualifications the order names, and the items they validly qualify."""
    whole, per_item = _referenced(order)
    if not whole and not per_item:
        return [], set()
    customer = customer_of(order)
    customer_id = customer.get("id") if customer else None
    problems: list[Problem] = []
    usable: dict[str, Doc | None] = {}

    async def usable_poq(poq_id: str, item_id: str | None) -> Doc | None:
        if poq_id not in usable:
            poq = await view.read(QUALIFICATION, "productOfferingQualification", poq_id)
            usable[poq_id] = poq
            reason = _unusable(poq, poq_id, customer_id, now)
            if reason is not None:
                problems.append(Problem(item_id, *reason))
                usable[poq_id] = None
        return usable[poq_id]

    covered: set[str] = set()
    for item, poq_id, poq_item_id in per_item:
        item_id = str(item.get("id")) if item.get("id") is not None else None
        poq = await usable_poq(poq_id, item_id)
        if poq is None:
            continue
        answer = _answer_for(poq, item, poq_item_id)
        offering = _ref_id(item, "productOffering")
        if answer and offering and _ref_id(answer, "productOffering") not in (None, offering):
            other = _ref_id(answer, "productOffering")
            problems.append(
                Problem(item_id, "QUALIFICATION_MISMATCH", f"Qualification {poq_id} item {poq_item_id} is for {other}.")
            )
            continue
        problem = _item_problem(item_id, poq_id, poq_item_id, answer)
        if problem:
            problems.append(problem)
        elif item_id is not None:
            covered.add(item_id)
    for poq_id in sorted(whole):
        poq = await usable_poq(poq_id, None)
        if poq is None:
            continue
        for item in walk_items(order.get("productOrderItem") or ()):
            item_id = str(item.get("id")) if item.get("id") is not None else None
            if item.get("action") != "add" or item_id in covered:
                continue
            answer = _answer_for(poq, item, None)
            if answer is None:
                continue  # not part of that qualification: checked by the order manager itself
            problem = _item_problem(item_id, poq_id, None, answer)
            if problem:
                problems.append(problem)
            elif item_id is not None:
                covered.add(item_id)
    return problems, covered


def _unusable(poq: Doc | None, poq_id: str, customer_id: Any, now: datetime | None) -> tuple[str, str] | None:
    if poq is None:
        return "QUALIFICATION_NOT_FOUND", f"Product offering qualification {poq_id!r} does not exist."
    if poq.get("state") != "done":
        return "QUALIFICATION_NOT_DONE", f"Qualification {poq_id} is {poq.get('state')}, not done."
    expires = parse_time(poq.get("expirationDate"))
    if expires is not None and now is not None and expires < now:
        return "QUALIFICATION_EXPIRED", f"Qualification {poq_id} expired at {poq['expirationDate']}."
    owner = customer_of(poq)
    owner_id = owner.get("id") if owner else None
    if owner_id != customer_id:
        whose = f"customer {owner_id}" if owner_id else "no customer"
        return "QUALIFICATION_OTHER_CUSTOMER", f"Qualification {poq_id} was made for {whose}, not {customer_id}."
    return None


def _answer_for(poq: Doc, item: Doc, poq_item_id: str | None) -> Doc | None:
    """The qualification item answering for an order item: the one named, else the one of the same offering."""
    answers = _dicts(poq.get("productOfferingQualificationItem"))
    if poq_item_id is not None:
        return next((a for a in answers if str(a.get("id")) == str(poq_item_id)), {})
    offering = _ref_id(item, "productOffering")
    return next((a for a in answers if offering and _ref_id(a, "productOffering") == offering), None)


def _item_problem(item_id: str | None, poq_id: str, poq_item_id: str | None, answer: Doc | None) -> Problem | None:
    if not answer:
        which = f"item {poq_item_id}" if poq_item_id else "an item for this offering"
        return Problem(item_id, "QUALIFICATION_MISMATCH", f"Qualification {poq_id} has no {which}.")
    result = answer.get("qualificationItemResult")
    if result != "qualified":
        reasons = "; ".join(
            (r["label"] if "label" in r else r.get("code", ""))
            for r in _dicts(answer.get("eligibilityUnavailabilityReason"))
        )
        detail = f": {reasons}" if reasons else ""
        return Problem(
            item_id,
            "QUALIFICATION_NOT_QUALIFIED",
            f"Qualification {poq_id} item {answer.get('id')} is {result}{detail}.",
        )
    return None

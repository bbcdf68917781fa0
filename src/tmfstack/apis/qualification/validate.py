"""Whether a TMF622 product order can be accepted: its items against the TMF620 catalog and
the customer's TMF637 inventory.

``validate_order`` returns every problem it finds (never only the first), each with a
stable code and a sentence naming the item, offering, characteristic or value at fault,
so a submitter can fix the whole order in one round.

Catalog interpretation worth knowing:

* ``requires`` relationships sharing a ``role`` (or all without one) are alternatives: the
  demo's roaming pass requires Mobile S, M *or* Unlimited, never all three.
* A characteristic the submitter must give is one with ``minCardinality`` >= 1 that is
  configurable and has no default; non-configurable ones (IMEI, serial number) are set by
  fulfilment, and defaults are filled by ``default_characteristics``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ... import limits
from ...tmf import Doc, fold, member
from ..catalog.characteristics import check_characteristics
from ..catalog.rules import (
    ENDED_PRODUCT,
    EXCLUDING,
    MODIFY_TO_STATUS,
    ORDERABLE_LIFECYCLE,
    Problem,
    _dicts,
    _label,
    _quantity,
    _ref_id,
    parse_time,
    period_covers,
    walk_items,
)
from ..catalog.view import CatalogView
from ..documents import customer_of
from .eligibility import EligibilityCache, eligibility, party_problems, qualification_problems, service_problems

# -- the order -----------------------------------------------------------------------------


@dataclass
class _OrderFacts:
    """What every item's rules share: the customer, the offerings added, the products deleted."""

    view: CatalogView
    now: datetime | None
    customer_id: str | None
    has_customer: bool
    market: EligibilityCache
    technical: bool = True  #: also check that the services can be delivered at the item's place
    qualified: set[str] = field(default_factory=set)  #: items a valid TMF679 qualification vouches for
    added: Counter[str] = field(default_factory=Counter)
    deleted: set[str] = field(default_factory=set)
    _owned: set[str] | None = None

    async def owned_offerings(self) -> set[str]:
        """Offerings of the customer's active products, minus those this order deletes (loaded once, lazily)."""
        if self._owned is None:
            products = await self.view.customer_products(self.customer_id) if self.customer_id else []
            self._owned = {
                oid
                for p in products
                if p.get("id") not in self.deleted and (oid := _ref_id(p, "productOffering")) is not None
            }
        return self._owned

    async def holds(self, offering_id: str, own: str | None) -> bool:
        """Whether the order adds ``offering_id`` elsewhere than the asking item, or the customer has it."""
        in_order = self.added[offering_id] - (1 if offering_id == own else 0)
        return in_order > 0 or offering_id in await self.owned_offerings()


def _facts(order: Doc, view: CatalogView, now: str, market: EligibilityCache | None) -> _OrderFacts:
    customer = customer_of(order)
    cid = customer.get("id") if customer else None
    cid = cid if isinstance(cid, str) and cid else None
    market = market or EligibilityCache.of(order, view, cid)
    facts = _OrderFacts(view, parse_time(now), cid, customer is not None, market)
    for item in walk_items(order.get("productOrderItem") or ()):
        oid = _ref_id(item, "productOffering")
        if item.get("action") == "add" and oid:
            facts.added[oid] += 1
        pid = _ref_id(item, "product")
        if item.get("action") == "delete" and pid:
            facts.deleted.add(pid)
    return facts


async def validate_order(
    order: Doc, view: CatalogView, now: str, *, technical: bool = True, market: EligibilityCache | None = None
) -> list[Problem]:
    """Every problem that keeps ``order`` from being accepted at ``now`` (ISO-8601, UTC); [] when fine.

    ``technical`` false leaves out serviceability at the items' places (TMF679 qualification
    is commercial only; TMF645 answers the technical question). ``market``: the order's
    eligibility reads, when a caller validates several orders of one customer."""
    items = list(walk_items(order.get("productOrderItem") or ()))
    if not items:
        return [Problem(None, "ORDER_HAS_NO_ITEMS", "The order has no order items.")]
    facts = _facts(order, view, now, market)
    facts.technical = technical
    problems, facts.qualified = await qualification_problems(order, view, facts.now)
    problems += await party_problems(order, facts.market)
    slicer = limits.Slicer()  # 1,000 items: the loop gets a turn every few ms
    for item in items:
        problems += await _check_item(item, facts)
        await slicer.tick()
    return problems


async def _check_item(item: Doc, facts: _OrderFacts) -> list[Problem]:
    action = item.get("action")
    item_id = str(item["id"]) if item.get("id") is not None else None
    quantity = item.get("quantity")
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1):
        return [Problem(item_id, "QUANTITY_INVALID", f"Quantity {quantity!r} is not a whole number of at least 1.")]
    if action == "add":
        return await _check_add(item_id, item, facts)
    if action in ("modify", "delete"):
        return await _check_existing(item_id, item, facts)
    if action == "noChange":
        return []
    return [Problem(item_id, "ACTION_UNKNOWN", f"Action {action!r} is not one of add, modify, delete, noChange.")]


# -- add -----------------------------------------------------------------------------------


async def _check_add(item_id: str | None, item: Doc, facts: _OrderFacts) -> list[Problem]:
    oid = _ref_id(item, "productOffering")
    if oid is None:
        return [
            Problem(
                item_id, "OFFERING_MISSING", "An add item must name the product offering to order (productOffering.id)."
            )
        ]
    offering = await facts.view.offering(oid)
    if offering is None:
        return [Problem(item_id, "OFFERING_NOT_FOUND", f"Product offering {oid!r} does not exist.")]
    problems = []
    if item_id not in facts.qualified:  # else a valid qualification vouches for it until it expires
        problems += offering_orderable(item_id, offering, facts.now)
        problems += await eligibility(item_id, item, offering, facts.market)
    if facts.technical:
        problems += await service_problems(item_id, item, offering, facts.market)
    product = member(item, "product")
    spec_id = _ref_id(offering, "productSpecification")
    asked_spec = _ref_id(product, "productSpecification")
    if asked_spec is not None and asked_spec != spec_id:
        problems.append(
            Problem(
                item_id,
                "SPECIFICATION_MISMATCH",
                f"Product specification {asked_spec!r} is not the one of "
                f"{_label(offering, oid)}, which is {spec_id!r}.",
            )
        )
    spec = await facts.view.specification(spec_id)
    problems += check_characteristics(item_id, product.get("productCharacteristic"), offering, spec, complete=True)
    problems += await _check_bundle(item_id, item, offering, facts.view)
    problems += await _check_relationships(item_id, offering, facts)
    return problems


def offering_orderable(item_id: str | None, offering: Doc, now: datetime | None) -> list[Problem]:
    """Lifecycle, sellability and validity of an offering at ``now``."""
    who = _label(offering, offering.get("id"))
    problems = []
    status = offering.get("lifecycleStatus")
    if fold(status or "") not in ORDERABLE_LIFECYCLE:
        problems.append(
            Problem(
                item_id,
                "OFFERING_NOT_ORDERABLE",
                f"Product offering {who} is {status or 'without a lifecycle status'}; only Active or Launched "
                "offerings can be ordered.",
            )
        )
    if offering.get("isSellable") is False:
        problems.append(
            Problem(item_id, "OFFERING_NOT_SELLABLE", f"Product offering {who} is not sellable (isSellable is false).")
        )
    if not period_covers(offering.get("validFor"), now):
        valid = offering.get("validFor") or {}
        span = f"{valid.get('startDateTime', 'any time')} to {valid.get('endDateTime', 'open end')}"
        problems.append(
            Problem(
                item_id,
                "OFFERING_NOT_VALID",
                f"Product offering {who} is valid from {span}, which does not cover the order date.",
            )
        )
    return problems


async def _check_bundle(item_id: str | None, item: Doc, offering: Doc, view: CatalogView) -> list[Problem]:
    children = [c for c in _dicts(item.get("productOrderItem")) if c.get("action") != "delete"]
    who = _label(offering, offering.get("id"))
    if offering.get("isBundle") is not True:
        if not children:
            return []
        ids = ", ".join(str(c.get("id")) for c in children)
        return [
            Problem(
                item_id,
                "NOT_A_BUNDLE",
                f"{who} is not a bundle, so it cannot carry the child items {ids}.",
            )
        ]
    if not children:
        return [
            Problem(
                item_id, "BUNDLE_ITEMS_MISSING", f"Bundle {who} needs its offerings as child items (productOrderItem)."
            )
        ]
    bundled = {b["id"]: b for b in _dicts(offering.get("bundledProductOffering")) if isinstance(b.get("id"), str)}
    problems: list[Problem] = []
    counts: Counter[str] = Counter()
    for child in children:
        oid = _ref_id(child, "productOffering")
        if oid is None:
            continue  # an add child without an offering is reported on its own
        if oid not in bundled:
            child_offering = await view.offering(oid)
            problems.append(
                Problem(
                    str(child.get("id")),
                    "BUNDLE_OFFERING_NOT_ALLOWED",
                    f"{_label(child_offering, oid)} is not part of bundle {who}.",
                )
            )
        counts[oid] += _quantity(child)
    return problems + _bundle_counts(item_id, who, bundled, counts)


def _bundle_counts(item_id: str | None, who: str, bundled: dict[str, Doc], counts: Counter[str]) -> list[Problem]:
    problems = []
    for oid, entry in bundled.items():
        option = entry.get("bundledProductOfferingOption") or {}
        low = option.get("numberRelOfferLowerLimit") or 0
        high = option.get("numberRelOfferUpperLimit")
        name = _label(entry, oid)
        if counts[oid] < low:
            problems.append(
                Problem(
                    item_id,
                    "BUNDLE_TOO_FEW",
                    f"Bundle {who} needs at least {low} of {name}; the order has {counts[oid]}.",
                )
            )
        if isinstance(high, int) and counts[oid] > high:
            problems.append(
                Problem(
                    item_id,
                    "BUNDLE_TOO_MANY",
                    f"Bundle {who} allows at most {high} of {name}; the order has {counts[oid]}.",
                )
            )
    return problems


async def _check_relationships(item_id: str | None, offering: Doc, facts: _OrderFacts) -> list[Problem]:
    own = offering.get("id")
    who = _label(offering, own)
    requires: dict[str | None, list[Doc]] = {}
    problems = []
    for rel in _dicts(offering.get("productOfferingRelationship")):
        kind, target = fold(rel.get("relationshipType") or ""), rel.get("id")
        if not isinstance(target, str) or not period_covers(rel.get("validFor"), facts.now):
            continue
        if kind == "requires":
            requires.setdefault(rel.get("role"), []).append(rel)
        elif kind in EXCLUDING and await facts.holds(target, own):
            problems.append(
                Problem(
                    item_id,
                    "OFFERING_EXCLUDED",
                    f"{who} cannot be combined with {_label(rel, target)}, which is in this order "
                    "or already active for the customer.",
                )
            )
    for alternatives in requires.values():
        if not [r for r in alternatives if await facts.holds(r["id"], own)]:
            names = " or ".join(_label(r, r["id"]) for r in alternatives)
            where = "in this order or among the customer's active products" if facts.customer_id else "in this order"
            problems.append(Problem(item_id, "OFFERING_REQUIREMENT_MISSING", f"{who} requires {names} {where}."))
    return problems


# -- modify / delete -----------------------------------------------------------------------


async def _check_existing(item_id: str | None, item: Doc, facts: _OrderFacts) -> list[Problem]:
    action = item.get("action")
    product_ref = member(item, "product")
    pid = product_ref.get("id")
    if not isinstance(pid, str) or not pid:
        return [
            Problem(item_id, "PRODUCT_ID_MISSING", f"A {action} item must name the product it changes (product.id).")
        ]
    product = await facts.view.product(pid)
    if product is None:
        return [Problem(item_id, "PRODUCT_NOT_FOUND", f"Product {pid!r} is not in the inventory.")]
    who = _label(product, pid)
    status = str(product.get("status") or "").strip()
    if fold(status) in ENDED_PRODUCT:
        return [Problem(item_id, "PRODUCT_NOT_ACTIVE", f"Product {who} is {status}; it cannot be {action}d.")]
    problems = _check_owner(item_id, str(action), who, product, facts)
    if action == "modify":
        problems += await _check_modify(item_id, item, product, facts)
    return problems


def _check_owner(item_id: str | None, action: str, who: str, product: Doc, facts: _OrderFacts) -> list[Problem]:
    if facts.customer_id is None:
        detail = "customer party has no id" if facts.has_customer else "names no customer (relatedParty)"
        return [
            Problem(
                item_id,
                "ORDER_HAS_NO_CUSTOMER",
                f"Cannot {action} product {who}: the order {detail}.",
            )
        ]
    owners = {p.get("id") for p in _dicts(product.get("relatedParty"))}
    if facts.customer_id not in owners:
        return [
            Problem(
                item_id,
                "PRODUCT_NOT_OWNED",
                f"Product {who} does not belong to customer {facts.customer_id!r}.",
            )
        ]
    return []


async def _check_modify(item_id: str | None, item: Doc, product: Doc, facts: _OrderFacts) -> list[Problem]:
    asked = item["product"]
    problems = []
    status = asked.get("status")
    if status is not None and fold(status) not in MODIFY_TO_STATUS:
        problems.append(
            Problem(
                item_id,
                "PRODUCT_STATUS_NOT_ALLOWED",
                f"A modify may set the product status to active or suspended, not {status!r}.",
            )
        )
    current = _ref_id(product, "productOffering")
    oid = _ref_id(item, "productOffering") or current
    offering = await facts.view.offering(oid)
    if oid != current:  # a change of plan: the new offering must be orderable today
        if offering is None:
            return [
                *problems,
                Problem(item_id, "OFFERING_NOT_FOUND", f"Product offering {oid!r} does not exist."),
            ]
        problems += offering_orderable(item_id, offering, facts.now)
    if offering is not None and asked.get("productCharacteristic"):
        spec = await facts.view.specification(_ref_id(offering, "productSpecification"))
        problems += check_characteristics(item_id, asked["productCharacteristic"], offering, spec, complete=False)
    return problems

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

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .view import CatalogView, customer_of

Doc = dict[str, Any]

ORDERABLE_LIFECYCLE = frozenset({"active", "launched"})
#: product statuses after which nothing can be modified or deleted ("aborted " is spelled with a space in 637)
ENDED_PRODUCT = frozenset({"terminated", "cancelled", "aborted"})
MODIFY_TO_STATUS = frozenset({"active", "suspended"})
EXCLUDING = frozenset({"excludes", "exclusivity"})


@dataclass(frozen=True)
class Problem:
    item: str | None  #: the order item id; None for the order itself
    code: str  #: stable UPPER_SNAKE code
    message: str  #: a sentence the submitter understands


# -- small helpers -------------------------------------------------------------------------


def walk_items(items: Iterable[Any]) -> Iterator[Doc]:
    """Every order item, depth first, nested bundle children included."""
    for item in items or ():
        if isinstance(item, dict):
            yield item
            yield from walk_items(item.get("productOrderItem") or ())


def _dicts(value: Any) -> list[Doc]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _ref_id(doc: Doc, key: str) -> str | None:
    ref = doc.get(key)
    return ref.get("id") if isinstance(ref, dict) and isinstance(ref.get("id"), str) else None


def _label(doc: Doc | None, id: str | None) -> str:
    """``Fibre 300 (po-fibre-300)``: names for people, ids for support."""
    name = doc.get("name") if doc else None
    return f"{name} ({id})" if name and id else str(name or id)


def _fold(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _quantity(item: Doc) -> int:
    q = item.get("quantity", 1)
    return q if isinstance(q, int) and not isinstance(q, bool) else 1


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (naive ones are UTC); None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def period_covers(valid_for: Any, when: datetime | None) -> bool:
    """Whether a TimePeriod (either end may be open) contains ``when``."""
    if not isinstance(valid_for, dict) or when is None:
        return True
    start, end = parse_time(valid_for.get("startDateTime")), parse_time(valid_for.get("endDateTime"))
    return (start is None or start <= when) and (end is None or when <= end)


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, as a submitter wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


# -- characteristic rules ------------------------------------------------------------------


@dataclass(frozen=True)
class CharRule:
    """One specification characteristic as this offering sells it (values narrowed by prodSpecCharValueUse)."""

    name: str
    value_type: str | None
    values: list[Doc]
    fallback: list[Doc]  #: the specification's own values, for its default when the narrowing names none
    min_card: int
    max_card: int | None
    configurable: bool
    regex: str | None

    def default(self) -> tuple[bool, Any]:
        for candidates in (self.values, self.fallback):
            for v in candidates:
                if v.get("isDefault") is True:
                    value = v["value"] if "value" in v else v.get("valueFrom")  # a default range means its start
                    if value is not None and (candidates is self.values or value_matches(value, self.values)):
                        return True, value
        return False, None


def characteristic_rules(spec: Doc | None, offering: Doc | None = None) -> dict[str, CharRule]:
    """The specification's characteristics keyed by folded name, narrowed by the offering."""
    spec_id = spec.get("id") if spec else None
    narrowing: dict[str, Doc] = {}
    for use in _dicts((offering or {}).get("prodSpecCharValueUse")):
        ref = _ref_id(use, "productSpecification")
        if use.get("name") and (ref is None or ref == spec_id):
            narrowing[_fold(use["name"])] = use
    rules = {}
    for char in _dicts((spec or {}).get("productSpecCharacteristic")):
        name = char.get("name")
        if not isinstance(name, str):
            continue
        own = _dicts(char.get("productSpecCharacteristicValue"))
        narrowed = _dicts(narrowing.get(_fold(name), {}).get("productSpecCharacteristicValue"))
        max_card = char.get("maxCardinality")
        rules[_fold(name)] = CharRule(
            name=name,
            value_type=char.get("valueType") if isinstance(char.get("valueType"), str) else None,
            values=narrowed or own,
            fallback=own,
            min_card=char.get("minCardinality") if isinstance(char.get("minCardinality"), int) else 0,
            max_card=max_card if isinstance(max_card, int) else None,
            configurable=char.get("configurable") is not False,
            regex=char.get("regex") if isinstance(char.get("regex"), str) else None,
        )
    return rules


def default_characteristics(spec: Doc | None, given: list[Doc], offering: Doc | None = None) -> list[Doc]:
    """``given`` plus the default of every characteristic it does not name (offering narrowing first)."""
    out = list(given)
    named = {_fold(c.get("name")) for c in given if isinstance(c, dict)}
    for key, rule in characteristic_rules(spec, offering).items():
        found, value = rule.default()
        if key not in named and found:
            out.append(
                {"name": rule.name, "value": value, **({"valueType": rule.value_type} if rule.value_type else {})}
            )
    return out


def type_matches(value: Any, value_type: str | None) -> bool:
    """Lenient on the type's spelling; types other than string/number/integer/boolean are not checked."""
    kind = _fold(value_type or "")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind in ("number", "float", "double", "decimal"):
        return is_number
    if kind in ("integer", "int", "long"):
        return is_number and float(value).is_integer()
    if kind in ("boolean", "bool"):
        return isinstance(value, bool)
    return True


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a boolean only equals a boolean
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _in_range(value: Any, spec: Doc) -> bool:
    low, high = spec.get("valueFrom"), spec.get("valueTo")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    interval = _fold(spec.get("rangeInterval") or "closed")
    low_ok = low is None or (value >= low if interval in ("closed", "closedbottom") else value > low)
    high_ok = high is None or (value <= high if interval in ("closed", "closedtop") else value < high)
    return low_ok and high_ok


def value_matches(value: Any, allowed: list[Doc]) -> bool:
    """Whether ``value`` is one of the listed values or inside one of the listed ranges (no list: anything)."""
    usable = [a for a in allowed if "value" in a or "valueFrom" in a or "valueTo" in a]
    if not usable:
        return True
    return any(_same(value, a["value"]) if "value" in a else _in_range(value, a) for a in usable)


def _describe_allowed(allowed: list[Doc]) -> str:
    shown = []
    for a in allowed:
        if "value" in a:
            shown.append(_show(a["value"]))
        elif "valueFrom" in a or "valueTo" in a:
            shown.append(f"{a.get('valueFrom', '…')} to {a.get('valueTo', '…')}")
    return ", ".join(shown)


def check_characteristics(
    item_id: str | None, given: Any, offering: Doc, spec: Doc | None, *, complete: bool
) -> list[Problem]:
    """Given characteristics against the offering's rules; ``complete`` also asks for the mandatory ones."""
    rules = characteristic_rules(spec, offering)
    who = _label(offering, offering.get("id"))
    problems: list[Problem] = []
    counts: Counter[str] = Counter()
    for char in _dicts(given):
        key = _fold(char.get("name", ""))
        rule = rules.get(key)
        if rule is None:
            known = ", ".join(r.name for r in rules.values()) or "none"
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_UNKNOWN",
                    f"Characteristic {char.get('name')!r} is not defined for {who} (known: {known}).",
                )
            )
            continue
        counts[key] += 1
        if not rule.configurable:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_NOT_CONFIGURABLE",
                    f"Characteristic {rule.name!r} of {who} is set by the operator during fulfilment,"
                    " not by the order.",
                )
            )
            continue
        problems += _check_value(item_id, who, rule, char.get("value"))
    for key, count in counts.items():
        rule = rules[key]
        if rule.max_card is not None and count > rule.max_card:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_CARDINALITY",
                    f"Characteristic {rule.name!r} of {who} is given {count} times; at most {rule.max_card} allowed.",
                )
            )
    if complete:
        problems += _missing_characteristics(item_id, who, rules, counts)
    return problems


def _check_value(item_id: str | None, who: str, rule: CharRule, value: Any) -> list[Problem]:
    if not type_matches(value, rule.value_type):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_TYPE",
                f"Characteristic {rule.name!r} of {who} must be of type {rule.value_type}, "
                f"but {_show(value)} ({_json_type(value)}) was given.",
            )
        ]
    if not value_matches(value, rule.values):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_VALUE",
                f"Value {_show(value)} is not offered for characteristic {rule.name!r} of {who}; "
                f"allowed: {_describe_allowed(rule.values)}.",
            )
        ]
    if rule.regex and isinstance(value, str) and not re.fullmatch(rule.regex, value):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_PATTERN",
                f"Value {value!r} of characteristic {rule.name!r} of {who} does not match the pattern {rule.regex}.",
            )
        ]
    return []


def _missing_characteristics(
    item_id: str | None, who: str, rules: dict[str, CharRule], counts: Counter[str]
) -> list[Problem]:
    problems = []
    for key, rule in rules.items():
        if rule.min_card >= 1 and rule.configurable and not counts[key] and not rule.default()[0]:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_MISSING",
                    f"Characteristic {rule.name!r} is required for {who} and has no default; please give a value.",
                )
            )
    return problems


# -- the order -----------------------------------------------------------------------------


@dataclass
class _OrderFacts:
    """What every item's rules share: the customer, the offerings added, the products deleted."""

    view: CatalogView
    now: datetime | None
    customer_id: str | None
    has_customer: bool
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


def _facts(order: Doc, view: CatalogView, now: str) -> _OrderFacts:
    customer = customer_of(order)
    cid = customer.get("id") if customer else None
    facts = _OrderFacts(view, parse_time(now), cid if isinstance(cid, str) and cid else None, customer is not None)
    for item in walk_items(order.get("productOrderItem") or ()):
        oid = _ref_id(item, "productOffering")
        if item.get("action") == "add" and oid:
            facts.added[oid] += 1
        pid = _ref_id(item, "product")
        if item.get("action") == "delete" and pid:
            facts.deleted.add(pid)
    return facts


async def validate_order(order: Doc, view: CatalogView, now: str) -> list[Problem]:
    """Every problem that keeps ``order`` from being accepted at ``now`` (ISO-8601, UTC); [] when fine."""
    items = list(walk_items(order.get("productOrderItem") or ()))
    if not items:
        return [Problem(None, "ORDER_HAS_NO_ITEMS", "The order has no order items.")]
    facts = _facts(order, view, now)
    problems: list[Problem] = []
    for item in items:
        problems += await _check_item(item, facts)
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
    problems = offering_orderable(item_id, offering, facts.now)
    product = item.get("product") if isinstance(item.get("product"), dict) else {}
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
    if _fold(status or "") not in ORDERABLE_LIFECYCLE:
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
        kind, target = _fold(rel.get("relationshipType") or ""), rel.get("id")
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
    product_ref = item.get("product") if isinstance(item.get("product"), dict) else {}
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
    if _fold(status) in ENDED_PRODUCT:
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
    if status is not None and _fold(status) not in MODIFY_TO_STATUS:
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

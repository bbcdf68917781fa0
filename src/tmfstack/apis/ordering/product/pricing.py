"""Prices a TMF622 order from the TMF620 catalog: ``itemPrice`` per add item, ``orderTotalPrice``.

TMF620 prices are duty free (``price``) with their taxes listed (``tax[].taxAmount`` per
unit, else ``taxRate``); an OrderPrice carries both amounts. A price that names
characteristic values (``prodSpecCharValueUse``: the 256 GB device price, the technician
installation fee) applies only to items having those values, defaults included. A
``discount`` price becomes a negative recurring (or one-time) charge so totals net it out.

Prices the submitter gave are checked when the order is created (``submitted.py``: refused,
or replaced by these); a disagreement found later (the catalog changed meanwhile) is returned
as a note for the order manager to record.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ....tmf import Doc, fold_alnum, member
from ...catalog.characteristics import default_characteristics, value_matches
from ...catalog.rules import parse_time, period_covers, walk_items
from ...catalog.view import CatalogView

CENT = Decimal("0.01")
#: TMF620 priceType spellings (folded, no spaces/dashes) -> OrderPrice priceType
PRICE_TYPES = {
    "recurring": "recurring",
    "recurringcharge": "recurring",
    "onetime": "oneTime",
    "onetimecharge": "oneTime",
    "usage": "usage",
    "usagecharge": "usage",
}
DISCOUNT = "discount"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    amount = Decimal(str(value))  # via str: 24.99 stays 24.99, not its binary approximation
    return amount if amount.is_finite() else None


def _money(unit: str, amount: Decimal) -> Doc:
    return {"unit": unit, "value": float(amount.quantize(CENT, ROUND_HALF_UP))}


def _cents(amount: Decimal) -> str:
    return f"{amount.quantize(CENT, ROUND_HALF_UP):.2f}"


# -- one catalog price -> one OrderPrice ---------------------------------------------------


def _period(pop: Doc) -> str | None:
    kind = pop.get("recurringChargePeriodType")
    if not isinstance(kind, str) or not kind:
        return None
    length = pop.get("recurringChargePeriodLength")
    return kind if not isinstance(length, int) or length == 1 else f"{length} {kind}s"


def _unit_of_measure(pop: Doc) -> str | None:
    uom = pop.get("unitOfMeasure")
    if isinstance(uom, str):
        return uom
    if isinstance(uom, dict) and uom.get("units"):
        amount = uom.get("amount", 1)
        return str(uom["units"]) if amount in (1, None) else f"{amount} {uom['units']}"
    return None


def _kind(pop: Doc) -> str | None:
    """The OrderPrice priceType of a catalog price; a discount takes its charge's cadence."""
    raw = fold_alnum(pop.get("priceType"))
    if raw == DISCOUNT:
        return "recurring" if _period(pop) else "oneTime"
    return PRICE_TYPES.get(raw)


def _tax(pop: Doc, duty_free: Decimal) -> tuple[Decimal, float | None]:
    """Tax per unit and the total tax rate; listed tax amounts win over rates (they are the catalog's rounding)."""
    taxes = [t for t in pop.get("tax") or [] if isinstance(t, dict)]
    rates = [r for t in taxes if (r := _decimal(t.get("taxRate"))) is not None]
    amounts = [a for t in taxes if (a := _decimal((t.get("taxAmount") or {}).get("value"))) is not None]
    rate = float(sum(rates)) if rates else None
    if amounts:
        return sum(amounts, Decimal(0)), rate
    return (duty_free * sum(rates, Decimal(0)) / 100) if rates else Decimal(0), rate


def order_price(pop: Doc, quantity: int) -> Doc | None:
    """The OrderPrice of ``quantity`` units at catalog price ``pop``; None when it has no usable amount or type."""
    kind = _kind(pop)
    money = member(pop, "price")
    duty_free = _decimal(money.get("value"))
    if kind is None or duty_free is None or not money.get("unit"):
        return None
    tax, rate = _tax(pop, duty_free)
    sign = -1 if fold_alnum(pop.get("priceType")) == DISCOUNT else 1
    times = sign * (1 if kind == "usage" else quantity)  # a usage rate is per unit consumed, not per item
    price: Doc = {
        "taxIncludedAmount": _money(money["unit"], (duty_free + tax) * times),
        "dutyFreeAmount": _money(money["unit"], duty_free * times),
    }
    if rate is not None:
        price["taxRate"] = rate
    out: Doc = {"name": pop.get("name") or pop.get("id"), "priceType": kind}
    if sign < 0:
        out["description"] = "discount"
    if kind == "recurring" and _period(pop):
        out["recurringChargePeriod"] = _period(pop)
    if kind == "usage" and _unit_of_measure(pop):
        out["unitOfMeasure"] = _unit_of_measure(pop)
    out["price"] = price
    out["productOfferingPrice"] = _price_ref(pop)
    return out


def _price_ref(pop: Doc) -> Doc:
    """The reference an OrderPrice keeps to its catalog price: unlike ``tmf.ref`` it leaves out
    empty values too (an unnamed price has no ``name: ""``) and names no ``@referredType``."""
    return {k: pop[k] for k in ("id", "href", "name") if pop.get(k)}


def _applies(pop: Doc, characteristics: list[Doc]) -> bool:
    """A price naming characteristic values applies only to items with those values."""
    values = {str(c.get("name", "")).casefold(): c.get("value") for c in characteristics if isinstance(c, dict)}
    for use in pop.get("prodSpecCharValueUse") or []:
        if not isinstance(use, dict) or not use.get("name"):
            continue
        allowed = [v for v in use.get("productSpecCharacteristicValue") or [] if isinstance(v, dict)]
        key = str(use["name"]).casefold()
        if allowed and (key not in values or not value_matches(values[key], allowed)):
            return False
    return True


async def item_prices(item: Doc, view: CatalogView, when: datetime | None, notes: list[str]) -> list[Doc] | None:
    """The catalog's itemPrice for an add item; None when its offering is unknown (validation reports that)."""
    offering = await view.offering((item.get("productOffering") or {}).get("id"))
    if offering is None:
        return None
    spec = await view.specification((offering.get("productSpecification") or {}).get("id"))
    product = member(item, "product")
    chars = default_characteristics(spec, list(product.get("productCharacteristic") or []), offering)
    quantity = item.get("quantity")
    quantity = quantity if isinstance(quantity, int) else 1
    prices = []
    for ref in offering.get("productOfferingPrice") or []:
        pop = await view.price(ref.get("id")) if isinstance(ref, dict) else None
        if pop is None:
            ref_id = ref.get("id") if isinstance(ref, dict) else ref
            notes.append(f"item {item.get('id')}: price {ref_id!r} of offering {offering.get('id')} does not exist")
            continue
        if not period_covers(pop.get("validFor"), when) or not _applies(pop, chars):
            continue
        priced = order_price(pop, quantity)
        if priced is None:
            notes.append(f"item {item.get('id')}: price {pop.get('id')} ({pop.get('priceType')}) was not priced")
            continue
        prices.append(priced)
    return prices


# -- summing and comparing -----------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    kind: str
    per: str | None  #: recurringChargePeriod, or unitOfMeasure for usage
    unit: str

    def amount(self, values: list[Decimal]) -> str:
        shown = ", ".join(_cents(v) for v in values)  # several only for usage rates, which are not summed
        return f"{shown} {self.unit}" + (f"/{self.per}" if self.per else "")


def _key(price: Doc, field: str) -> tuple[_Key, Decimal] | None:
    kind = PRICE_TYPES.get(fold_alnum(price.get("priceType")), str(price.get("priceType") or "unknown"))
    money = (price.get("price") or {}).get(field) or {}
    amount = _decimal(money.get("value")) if isinstance(money, dict) else None
    if amount is None:
        return None
    per = price.get("unitOfMeasure") if kind == "usage" else price.get("recurringChargePeriod")
    return _Key(kind, per if isinstance(per, str) else None, str(money.get("unit") or "")), amount


def _summary(prices: Iterable[Doc], field: str) -> dict[_Key, list[Decimal]]:
    """Per (priceType, period, currency): the sum of charges, or for usage its distinct rates (never summed)."""
    found: dict[_Key, list[Decimal]] = defaultdict(list)
    for price in prices:
        if (hit := _key(price, field)) is not None:
            found[hit[0]].append(hit[1])
    return {
        k: sorted({v.quantize(CENT, ROUND_HALF_UP) for v in vs}) if k.kind == "usage" else [sum(vs, Decimal(0))]
        for k, vs in found.items()
    }


def _field(given: list[Doc]) -> str:
    """Compare on tax-included amounts when the submitter gave them everywhere, else duty free."""
    has = all(isinstance((p.get("price") or {}).get("taxIncludedAmount"), dict) for p in given)
    return "taxIncludedAmount" if has else "dutyFreeAmount"


def compare(label: str, given: list[Doc], expected: list[Doc], whose: str, field: str | None = None) -> list[str]:
    """One readable note per (priceType, period, currency) where ``given`` and ``expected`` disagree
    (on ``field``; by default tax included when every given price has it, else duty free)."""
    given = [p for p in given if isinstance(p, dict)]
    field = field or _field(given)
    mine, theirs = _summary(given, field), _summary(expected, field)
    suffix = " (tax included)" if field == "taxIncludedAmount" else " (duty free)"
    notes = []
    for key in sorted(mine.keys() | theirs.keys(), key=_sort_key):
        a, b = mine.get(key), theirs.get(key)
        if a is not None and b is not None and [_cents(v) for v in a] == [_cents(v) for v in b]:
            continue
        if a is None:
            notes.append(f"{label} has no {key.kind} price where {whose} is {key.amount(b or [])}{suffix}")
        elif b is None:
            notes.append(f"{label} {key.kind} {key.amount(a)} has no counterpart in {whose} prices{suffix}")
        else:
            notes.append(f"{label} {key.kind} {key.amount(a)} differs from {whose} {key.amount(b)}{suffix}")
    return notes


def order_totals(prices: list[Doc]) -> list[Doc]:
    """orderTotalPrice: recurring and one-time charges summed per period and currency, usage rates listed apart."""
    charges = [p for p in prices if fold_alnum(p.get("priceType")) != "usage"]
    sums = {f: _summary(charges, f) for f in _FIELDS}
    counts = {f: Counter(hit[0] for p in charges if (hit := _key(p, f))) for f in _FIELDS}
    keys = sums["dutyFreeAmount"].keys() | sums["taxIncludedAmount"].keys()
    totals: list[Doc] = []
    for key in sorted(keys, key=_sort_key):
        # an amount is totalled only when every charge of the group carries it; a partial sum would mislead
        complete = [f for f in _FIELDS if counts[f][key] == max(counts[g][key] for g in _FIELDS)]
        total: Doc = {"name": _TOTAL_NAMES.get(key.kind, f"Total {key.kind}"), "priceType": key.kind}
        if key.per:
            total["recurringChargePeriod"] = key.per
        total["price"] = {f: _money(key.unit, sums[f][key][0]) for f in complete}
        totals.append(total)
    seen: set[Any] = set()
    for p in prices:
        ref = (p.get("productOfferingPrice") or {}).get("id") or p.get("name")
        if fold_alnum(p.get("priceType")) == "usage" and ref not in seen:
            seen.add(ref)
            totals.append(copy.deepcopy(p))  # not shared with the item: the order is edited later
    return totals


_FIELDS = ("taxIncludedAmount", "dutyFreeAmount")
_TOTAL_NAMES = {"recurring": "Total recurring charges", "oneTime": "Total one-time charges"}


def _sort_key(key: _Key) -> tuple[int, str, str]:
    return ({"recurring": 0, "oneTime": 1}.get(key.kind, 2), key.per or "", key.unit)


# -- the order -----------------------------------------------------------------------------


async def price_order(order: Doc, view: CatalogView) -> list[str]:
    """Fill ``itemPrice`` of add items and ``orderTotalPrice`` in place; return notes on given prices that disagree."""
    notes: list[str] = []
    final: list[Doc] = []
    when = parse_time(order.get("orderDate"))  # prices valid on the order date; none given: any
    for item in walk_items(order.get("productOrderItem") or ()):
        if item.get("action") != "add":
            continue
        computed = await item_prices(item, view, when, notes)
        given = item.get("itemPrice")
        if computed is not None and given:
            notes += compare(f"item {item.get('id')}: itemPrice", list(given), computed, "the catalog's")
        elif computed is not None:
            item["itemPrice"] = computed
        final += [p for p in item.get("itemPrice") or [] if isinstance(p, dict)]
    totals = order_totals(final)
    if not order.get("orderTotalPrice"):
        if totals:
            order["orderTotalPrice"] = totals
    else:
        notes += compare("orderTotalPrice", list(order["orderTotalPrice"]), totals, "the items'")
    return notes

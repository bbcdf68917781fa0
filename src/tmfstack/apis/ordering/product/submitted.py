"""Prices come from the catalog: what a client submits is checked when the order is created.

A submitted price is any of ``productOrderItem.itemPrice``, ``itemTotalPrice``,
``product.productPrice`` and ``orderTotalPrice``, each with its ``priceAlteration`` entries.
An alteration is a charge of its own (a discount is a negative one), so it counts toward
the total it sits in: a client cannot lower a price by adding an alteration the catalog
does not grant. Every amount given (duty free and tax included, each on its own) must sum,
per price type, period and currency, to what ``pricing.py`` computes from the catalog:

- ``itemPrice`` and ``product.productPrice`` of an add item: that item's catalog prices;
- ``itemTotalPrice``: the catalog prices of the item and its bundle children;
- ``orderTotalPrice``: the catalog prices of every add item;
- modify, delete and noChange items have no catalog price, so carry none.

An entry without a comparable amount (a percentage only) cannot be checked and disagrees.
``TMFSTACK_SUBMITTED_PRICES`` decides what a disagreement does: ``reject`` (default) refuses
the order with 422 ``PRICE_MISMATCH`` naming each one; ``catalog`` stores the catalog's
prices instead and notes what was replaced. Never is a submitted price silently kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from ....tmf import Doc
from ...catalog.rules import walk_items
from ...catalog.view import CatalogView
from ..shared import note
from .pricing import _decimal, compare, order_totals, price_order

MODES = ("reject", "catalog")
ITEM_PRICES = ("itemPrice", "itemTotalPrice")
AMOUNTS = ("taxIncludedAmount", "dutyFreeAmount")
AUTHOR = "order manager"


def _list(value: Any) -> list[Doc]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}


def _entries(prices: list[Doc]) -> Iterator[Doc]:
    """Each price and each of its alterations, as one charge each (an alteration inherits its
    price's period when it gives none)."""
    for price in prices:
        yield price
        for alt in _list(price.get("priceAlteration")):
            per = "unitOfMeasure" if alt.get("priceType") == "usage" else "recurringChargePeriod"
            yield {"priceType": alt.get("priceType"), per: alt.get(per, price.get(per)), "price": alt.get("price")}


def _has(entry: Doc, field: str) -> bool:
    money = _dict(entry.get("price")).get(field)
    return isinstance(money, dict) and _decimal(money.get("value")) is not None


def disagreements(label: str, given: list[Doc], expected: list[Doc], whose: str) -> list[str]:
    """Every way ``given`` (alterations included) differs from ``expected``, on each amount it gives."""
    flat = list(_entries(given))
    fields = [f for f in AMOUNTS if any(_has(e, f) for e in flat)]
    if flat and not fields:
        return [f"{label} gives no amount (dutyFreeAmount or taxIncludedAmount) to check against {whose} prices"]
    found = []
    for field in fields:
        if not all(_has(e, field) for e in flat):
            found.append(f"{label}: every price and alteration must give {field} when one does")
        else:
            found += compare(label, flat, expected, whose, field)
    return found


def _sent(item: Doc) -> bool:
    product = _dict(item.get("product"))
    return any(item.get(k) for k in ITEM_PRICES) or bool(product.get("productPrice"))


def _subtree_prices(item: Doc) -> list[Doc]:
    return [p for i in walk_items([item]) if i.get("action") == "add" for p in _list(i.get("itemPrice"))]


async def check_prices(order: Doc, view: CatalogView) -> tuple[list[str], Doc]:
    """(disagreements, the order priced from the catalog alone) for a new order."""
    if not order.get("orderTotalPrice") and not any(_sent(i) for i in walk_items(order.get("productOrderItem") or ())):
        return [], order  # nothing submitted: the order manager prices it (no catalog reads here)
    catalog = copy.deepcopy(order)
    catalog.pop("orderTotalPrice", None)
    for item in walk_items(catalog.get("productOrderItem") or ()):
        for key in ITEM_PRICES:
            item.pop(key, None)
        if isinstance(item.get("product"), dict):
            item["product"].pop("productPrice", None)
    await price_order(catalog, view)  # fills itemPrice of add items it can price, and orderTotalPrice
    problems: list[str] = []
    unpriced = False
    given_items = list(walk_items(order.get("productOrderItem") or ()))
    for given, ours in zip(given_items, walk_items(catalog.get("productOrderItem") or ()), strict=True):
        label = f"item {given.get('id')}"
        product = _dict(given.get("product"))
        sent = {
            "itemPrice": _list(given.get("itemPrice")),
            "itemTotalPrice": _list(given.get("itemTotalPrice")),
            "product.productPrice": _list(product.get("productPrice")),
        }
        if given.get("action") != "add":
            action = given.get("action")
            problems += [f"{label}: a {action} item has no catalog price to carry {k}" for k, v in sent.items() if v]
            continue
        if "itemPrice" not in ours:
            unpriced = True  # unknown offering: validation rejects the order with the reason
            continue
        for key, expected in (("itemPrice", ours["itemPrice"]), ("product.productPrice", ours["itemPrice"])):
            if sent[key]:
                problems += disagreements(f"{label}: {key}", sent[key], expected, "the catalog's")
        if sent["itemTotalPrice"]:
            expected = _subtree_prices(ours)
            problems += disagreements(f"{label}: itemTotalPrice", sent["itemTotalPrice"], expected, "the catalog's")
    given_total = _list(order.get("orderTotalPrice"))
    if given_total and not unpriced:
        expected = [p for item in catalog.get("productOrderItem") or () for p in _subtree_prices(item)]
        problems += disagreements("orderTotalPrice", given_total, expected, "the catalog's")
    return problems, catalog


def use_catalog_prices(order: Doc, catalog: Doc, problems: list[str]) -> None:
    """Replace every submitted price of ``order`` by the catalog's, noting what was replaced."""
    for given, ours in zip(
        walk_items(order.get("productOrderItem") or ()), walk_items(catalog.get("productOrderItem") or ()), strict=True
    ):
        had_total = "itemTotalPrice" in given
        for key in ITEM_PRICES:
            given.pop(key, None)
        if isinstance(given.get("product"), dict):
            given["product"].pop("productPrice", None)
        if "itemPrice" in ours:
            given["itemPrice"] = ours["itemPrice"]
            if had_total:
                given["itemTotalPrice"] = order_totals(_subtree_prices(ours))
    order.pop("orderTotalPrice", None)
    if catalog.get("orderTotalPrice"):
        order["orderTotalPrice"] = catalog["orderTotalPrice"]
    text = "price check: submitted prices replaced by the catalog's: " + "; ".join(problems)
    order.setdefault("note", []).append(note(AUTHOR, text))

"""Prices come from the catalog: a client cannot set its own price on a TMF622 order.

Each test is an attack that succeeded before the check (the order completed at the price
the client wrote): a cheap itemPrice, a forged discount as priceAlteration, a percentage
discount, a forged orderTotalPrice or itemTotalPrice, prices on a modify item. By default
the order is refused at once (422 PRICE_MISMATCH, nothing stored); with
TMFSTACK_SUBMITTED_PRICES=catalog it is stored, and completes, at the catalog's prices.
The Galaxy S25 128 GB is 899.00 EUR tax included (749.17 duty free) in the demo catalog.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error
from tests.support.ordering import ORDERS, add, added_by, change, customer, load_demo, notes, order, place
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]


def eur(value: float, duty_free: float | None = None) -> Doc:
    price: Doc = {"taxIncludedAmount": {"unit": "EUR", "value": value}}
    if duty_free is not None:
        price["dutyFreeAmount"] = {"unit": "EUR", "value": duty_free}
    return price


def one_time(value: float, **extra: Any) -> Doc:
    return {"name": "device", "priceType": "oneTime", "price": eur(value), **extra}


def phone(**extra: Any) -> Doc:
    return add("1", "po-galaxy-s25", **extra)


@pytest.fixture
def shop(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        load_demo(client)
        yield client


@pytest.fixture
def catalog_wins(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(dataclasses.replace(settings, submitted_prices="catalog"))) as client:
        load_demo(client)
        yield client


def refused(client: TestClient, body: Doc, *words: str) -> None:
    error = assert_error(client.post(ORDERS, json=body), 422, "PRICE_MISMATCH")
    for word in words:
        assert word in error["message"], error
    assert client.get(ORDERS).json() == [], "a refused order must not be stored"


def test_a_cheap_item_price_is_refused(shop: TestClient) -> None:
    refused(shop, order(phone(itemPrice=[one_time(0.01)])), "item 1: itemPrice", "0.01", "899.00")


def test_a_forged_price_alteration_is_refused(shop: TestClient) -> None:
    # the catalog's own price, with a discount the client granted itself
    forged = one_time(899.0, priceAlteration=[{"priceType": "oneTime", "price": eur(-898.99)}])
    refused(shop, order(phone(itemPrice=[forged])), "item 1: itemPrice", "0.01", "899.00")


def test_a_percentage_alteration_cannot_be_checked_and_is_refused(shop: TestClient) -> None:
    forged = one_time(899.0, priceAlteration=[{"priceType": "oneTime", "price": {"percentage": 100}}])
    refused(shop, order(phone(itemPrice=[forged])), "every price and alteration must give taxIncludedAmount")


def test_a_forged_order_total_is_refused(shop: TestClient) -> None:
    total = [{"priceType": "oneTime", "price": eur(0.01)}]
    refused(shop, order(phone(), orderTotalPrice=total), "orderTotalPrice", "0.01", "899.00")


def test_a_wrong_duty_free_amount_is_refused_even_with_the_right_tax_included(shop: TestClient) -> None:
    refused(shop, order(phone(itemPrice=[one_time(899.0) | {"price": eur(899.0, 0.01)}])), "duty free", "749.17")


def test_a_forged_item_total_and_product_price_are_refused(shop: TestClient) -> None:
    body = order(phone(itemTotalPrice=[one_time(1.0)], product={"productPrice": [one_time(2.0)]}))
    refused(shop, body, "itemTotalPrice oneTime 1.00", "product.productPrice oneTime 2.00")


def test_a_modify_item_cannot_carry_prices(shop: TestClient) -> None:
    item = {**change("1", "prod-any"), "itemPrice": [one_time(0.01)]}
    refused(shop, order(item), "a modify item has no catalog price")


def test_the_catalog_price_itself_is_accepted(shop: TestClient) -> None:
    given = [one_time(899.0) | {"price": eur(899.0, 749.17)}]
    doc = place(shop, order(phone(itemPrice=given), orderTotalPrice=[{"priceType": "oneTime", "price": eur(899.0)}]))
    assert doc["state"] == "completed", notes(doc)
    assert "price check" not in notes(doc)


def test_with_the_catalog_setting_the_order_completes_at_the_catalog_price(catalog_wins: TestClient) -> None:
    forged = one_time(0.01, priceAlteration=[{"priceType": "oneTime", "price": eur(-0.01)}])
    total = [{"priceType": "oneTime", "price": eur(0.0)}]
    doc = place(catalog_wins, order(phone(itemPrice=[forged]), orderTotalPrice=total, customer=customer()))
    assert doc["state"] == "completed", notes(doc)
    (price,) = doc["productOrderItem"][0]["itemPrice"]
    assert price["price"]["taxIncludedAmount"]["value"] == 899.0 and "priceAlteration" not in price
    assert price["productOfferingPrice"]["id"] == "pop-galaxy-s25-128-device"
    assert [t["price"]["taxIncludedAmount"]["value"] for t in doc["orderTotalPrice"]] == [899.0]
    assert "submitted prices replaced by the catalog's" in notes(doc)
    assert "itemPrice oneTime 0.00 EUR differs" in notes(doc)  # 0.01 less its own 0.01 discount
    product = added_by(catalog_wins, doc["id"], "1")
    assert [p["price"]["taxIncludedAmount"]["value"] for p in product["productPrice"]] == [899.0]

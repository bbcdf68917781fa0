"""The order manager's rules (validate_order, price_order) over a real engine, SQLite and the demo catalog.

Each rule has a passing order and one that breaks it; problems are checked by code and by
the message naming the culprit. Prices are checked against sums worked out by hand from
demo/data/product_catalog.json (catalog prices are duty free; tax-included = price + listed taxAmount).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.assertions import assert_valid, definitions
from tmfstack.apis import all_apis
from tmfstack.apis.catalog.characteristics import default_characteristics
from tmfstack.apis.catalog.rules import Problem, walk_items
from tmfstack.apis.catalog.view import CatalogView
from tmfstack.apis.ordering.product.pricing import price_order
from tmfstack.apis.qualification.validate import validate_order
from tmfstack.demo import load_demo
from tmfstack.engine.core import Engine
from tmfstack.store.base import open_store

Doc = dict[str, Any]

NOW = "2025-09-01T10:00:00Z"
CUSTOMER = "cust-1"
MSISDN = {"name": "MSISDN", "value": "+41791234567"}

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    eng = Engine(open_store(f"sqlite:///{tmp_path}/t.db"), all_apis(), public_url="http://test")
    await eng.open()
    await load_demo(eng, orders=False)
    try:
        yield eng
    finally:
        await eng.drain()
        await eng.store.close()


# -- helpers -------------------------------------------------------------------------------


def add(item_id: str, offering: str, *chars: Doc, children: list[Doc] | None = None, **extra: Any) -> Doc:
    item: Doc = {"id": item_id, "action": "add", "productOffering": {"id": offering}, **extra}
    if chars:
        item.setdefault("product", {})["productCharacteristic"] = list(chars)
    if children is not None:
        item["productOrderItem"] = children
    return item


def change(item_id: str, action: str, product_id: str | None, **product: Any) -> Doc:
    ref = {"id": product_id, **product} if product_id else dict(product)
    return {"id": item_id, "action": action, "product": ref}


def order(*items: Doc, customer: str | None = CUSTOMER) -> Doc:
    doc: Doc = {"orderDate": NOW, "productOrderItem": list(items)}
    if customer:
        doc["relatedParty"] = [{"id": customer, "role": "Customer", "@referredType": "Individual"}]
    return doc


async def check(engine: Engine, doc: Doc, now: str = NOW) -> list[Problem]:
    async with engine.unit() as unit:
        return await validate_order(doc, CatalogView(engine, unit), now)


async def price(engine: Engine, doc: Doc) -> list[str]:
    async with engine.unit() as unit:
        return await price_order(doc, CatalogView(engine, unit))


def only(problems: list[Problem], code: str, *named: str, item: str | None = None) -> Problem:
    """The single problem, of ``code``, whose message names every string in ``named``."""
    assert [p.code for p in problems] == [code], problems
    problem = problems[0]
    for name in named:
        assert name in problem.message, (name, problem.message)
    if item is not None:
        assert problem.item == item
    return problem


async def clone(engine: Engine, resource: str, source: str, new_id: str, **changes: Any) -> Doc:
    """A demo catalog entity copied under ``new_id`` with ``changes``."""
    svc = engine.resource("tmf620", resource)
    doc = orjson.loads((await svc.get(source)).doc)
    doc.update(id=new_id, **changes)
    created, _, _ = await svc.create(doc, keep_id=True)
    return created


async def own(engine: Engine, product_id: str, offering: str, status: str = "active", customer: str = CUSTOMER) -> Doc:
    """A product in the inventory, held by ``customer``."""
    body = {
        "id": product_id,
        "name": offering,
        "status": status,
        "productOffering": {"id": offering},
        "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Individual"}],
    }
    created, _, _ = await engine.resource("tmf637", "product").create(body, keep_id=True)
    return created


def amounts(price_doc: Doc) -> tuple[float, float]:
    """(tax included, duty free) of one OrderPrice."""
    p = price_doc["price"]
    return p["taxIncludedAmount"]["value"], p["dutyFreeAmount"]["value"]


def by_type(prices: list[Doc]) -> dict[str, Doc]:
    return {p["priceType"]: p for p in prices}


# -- offerings -----------------------------------------------------------------------------


async def test_valid_order_has_no_problems(engine: Engine) -> None:
    assert await check(engine, order(add("1", "po-fibre-300"), add("2", "po-galaxy-s25"))) == []


async def test_offering_id_missing(engine: Engine) -> None:
    doc = order({"id": "1", "action": "add", "product": {"name": "something"}})
    only(await check(engine, doc), "OFFERING_MISSING", "productOffering", item="1")


async def test_offering_not_found(engine: Engine) -> None:
    only(await check(engine, order(add("1", "po-no-such"))), "OFFERING_NOT_FOUND", "po-no-such", item="1")


async def test_offering_lifecycle(engine: Engine) -> None:
    await clone(engine, "productOffering", "po-fibre-300", "po-active", lifecycleStatus="Active")
    await clone(engine, "productOffering", "po-fibre-300", "po-design", name="Fibre beta", lifecycleStatus="In design")
    assert await check(engine, order(add("1", "po-active"))) == []
    only(await check(engine, order(add("1", "po-design"))), "OFFERING_NOT_ORDERABLE", "Fibre beta", "In design")


async def test_offering_retired_and_expired(engine: Engine) -> None:
    doc = order(add("1", "po-mobile-s", MSISDN))
    problems = await check(engine, doc)
    assert {p.code for p in problems} == {"OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID"}
    assert all("Mobile S" in p.message for p in problems)
    # inside its validity period only the lifecycle stops it
    only(await check(engine, doc, now="2025-03-01T00:00:00Z"), "OFFERING_NOT_ORDERABLE", "Retired")


async def test_offering_not_sellable(engine: Engine) -> None:
    await clone(engine, "productOffering", "po-fibre-300", "po-hidden", name="Fibre hidden", isSellable=False)
    only(await check(engine, order(add("1", "po-hidden"))), "OFFERING_NOT_SELLABLE", "Fibre hidden")


async def test_offering_validity(engine: Engine) -> None:
    future = {"startDateTime": "2026-01-01T00:00:00Z"}
    await clone(engine, "productOffering", "po-fibre-300", "po-future", name="Fibre 2026", validFor=future)
    assert await check(engine, order(add("1", "po-fibre-300")), now="2025-01-01T00:00:00Z") == []  # start inclusive
    only(await check(engine, order(add("1", "po-future"))), "OFFERING_NOT_VALID", "Fibre 2026", "2026-01-01")
    assert await check(engine, order(add("1", "po-future")), now="2026-02-01T00:00:00Z") == []


async def test_specification_must_match_offering(engine: Engine) -> None:
    good = add("1", "po-fibre-300", product={"productSpecification": {"id": "ps-fibre-access"}})
    bad = add("1", "po-fibre-300", product={"productSpecification": {"id": "ps-mobile-5g"}})
    assert await check(engine, order(good)) == []
    only(await check(engine, order(bad)), "SPECIFICATION_MISMATCH", "ps-mobile-5g", "ps-fibre-access", "Fibre 300")


# -- characteristics -----------------------------------------------------------------------


async def test_characteristic_unknown(engine: Engine) -> None:
    problems = await check(engine, order(add("1", "po-galaxy-s25", {"name": "Color", "value": "Navy"})))
    only(problems, "CHARACTERISTIC_UNKNOWN", "'Color'", "Samsung Galaxy S25", "Colour")


async def test_characteristic_type(engine: Engine) -> None:
    good = add("1", "po-galaxy-s25", {"name": "Storage", "value": 256})
    assert await check(engine, order(good)) == []
    bad = add("1", "po-galaxy-s25", {"name": "Storage", "value": "256"})
    only(await check(engine, order(bad)), "CHARACTERISTIC_TYPE", "'Storage'", "integer", "'256'")
    flag = add("1", "po-mobile-m", MSISDN, {"name": "eSIM", "value": 1})
    only(await check(engine, order(flag)), "CHARACTERISTIC_TYPE", "'eSIM'", "boolean")


async def test_characteristic_type_is_lenient_on_case(engine: Engine) -> None:
    char = {"name": "Weight", "valueType": "NUMBER", "minCardinality": 0, "maxCardinality": 1}
    await clone(engine, "productSpecification", "ps-galaxy-s25", "ps-scale", productSpecCharacteristic=[char])
    await clone(
        engine,
        "productOffering",
        "po-galaxy-tab-s10fe",
        "po-scale",
        name="Scale",
        productSpecification={"id": "ps-scale", "name": "Samsung Galaxy S25"},
        productOfferingPrice=[],
    )
    assert await check(engine, order(add("1", "po-scale", {"name": "weight", "value": 2.5}))) == []
    only(await check(engine, order(add("1", "po-scale", {"name": "Weight", "value": "2.5"}))), "CHARACTERISTIC_TYPE")


async def test_characteristic_value_narrowed_by_offering(engine: Engine) -> None:
    assert await check(engine, order(add("1", "po-galaxy-s25", {"name": "Colour", "value": "Icyblue"}))) == []
    # Mint is in the specification, but the offering sells only Navy, Icyblue and Silver Shadow
    problems = await check(engine, order(add("1", "po-galaxy-s25", {"name": "Colour", "value": "Mint"})))
    only(problems, "CHARACTERISTIC_VALUE", "'Mint'", "'Colour'", "'Navy'")
    # 500 Mbit/s exists in the specification, but Fibre 300 sells only 300
    problems = await check(engine, order(add("1", "po-fibre-300", {"name": "Download speed", "value": 500})))
    only(problems, "CHARACTERISTIC_VALUE", "500", "'Download speed'", "Fibre 300")


async def test_characteristic_value_range(engine: Engine) -> None:
    fibre = add("1", "po-fibre-500")
    ok = order(fibre, add("2", "po-wifi-router", {"name": "Mesh extenders", "value": 2}))
    assert await check(engine, ok) == []
    bad = order(fibre, add("2", "po-wifi-router", {"name": "Mesh extenders", "value": 3}))
    only(await check(engine, bad), "CHARACTERISTIC_VALUE", "3", "'Mesh extenders'", "0 to 2", item="2")


async def test_characteristic_pattern(engine: Engine) -> None:
    problems = await check(engine, order(add("1", "po-mobile-m", {"name": "MSISDN", "value": "0791234567"})))
    only(problems, "CHARACTERISTIC_PATTERN", "'0791234567'", "'MSISDN'")


async def test_characteristic_required_without_default(engine: Engine) -> None:
    assert await check(engine, order(add("1", "po-mobile-m", MSISDN))) == []
    # MSISDN is configurable, mandatory and has no default; IMEI-like fields set by fulfilment are not asked for
    only(await check(engine, order(add("1", "po-mobile-m"))), "CHARACTERISTIC_MISSING", "'MSISDN'", "Mobile M")


async def test_characteristic_cardinality(engine: Engine) -> None:
    twice = add("1", "po-galaxy-s25", {"name": "Colour", "value": "Navy"}, {"name": "Colour", "value": "Icyblue"})
    only(await check(engine, order(twice)), "CHARACTERISTIC_CARDINALITY", "'Colour'", "2 times")


async def test_default_characteristics(engine: Engine) -> None:
    async with engine.unit() as unit:
        view = CatalogView(engine, unit)
        offering, spec = await view.offering("po-fibre-300"), await view.specification("ps-fibre-access")
        router_spec = await view.specification("ps-wifi-router")
    given = [{"name": "Installation type", "value": "Self-installation"}]
    filled = {c["name"]: c["value"] for c in default_characteristics(spec, given, offering)}
    # the offering's narrowing wins over the specification's default (500/250)
    assert filled == {"Installation type": "Self-installation", "Download speed": 300, "Upload speed": 100}
    assert {c["name"]: c["value"] for c in default_characteristics(spec, [])}["Download speed"] == 500
    router = {c["name"]: c["value"] for c in default_characteristics(router_spec, [])}
    assert router == {"Wi-Fi standard": "Wi-Fi 6 (802.11ax)", "Mesh extenders": 0}  # no default serial number


# -- bundles -------------------------------------------------------------------------------


def bundle(*children: Doc) -> Doc:
    return add("1", "po-home-mobile-bundle", children=list(children))


async def test_bundle_valid(engine: Engine) -> None:
    doc = order(bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN, quantity=2)))
    assert await check(engine, doc) == []


async def test_bundle_without_children(engine: Engine) -> None:
    only(await check(engine, order(bundle())), "BUNDLE_ITEMS_MISSING", "Home & Mobile bundle", item="1")


async def test_bundle_too_few(engine: Engine) -> None:
    problems = await check(engine, order(bundle(add("1.1", "po-fibre-500"))))
    only(problems, "BUNDLE_TOO_FEW", "at least 1", "Mobile Unlimited", item="1")


async def test_bundle_too_many(engine: Engine) -> None:
    doc = order(bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN, quantity=5)))
    only(await check(engine, doc), "BUNDLE_TOO_MANY", "at most 4", "Mobile Unlimited", "has 5", item="1")


async def test_bundle_offering_not_allowed(engine: Engine) -> None:
    doc = order(
        bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN), add("1.3", "po-fibre-300"))
    )
    only(await check(engine, doc), "BUNDLE_OFFERING_NOT_ALLOWED", "Fibre 300", "Home & Mobile bundle", item="1.3")


async def test_children_of_a_non_bundle(engine: Engine) -> None:
    doc = order(add("1", "po-fibre-300", children=[add("1.1", "po-wifi-router")]))
    only(await check(engine, doc), "NOT_A_BUNDLE", "Fibre 300", "1.1", item="1")


async def test_bundle_option_missing_means_any_number(engine: Engine) -> None:
    await clone(
        engine,
        "productOffering",
        "po-home-mobile-bundle",
        "po-free-bundle",
        bundledProductOffering=[{"id": "po-galaxy-s25", "name": "Samsung Galaxy S25"}, {"id": "po-fibre-300"}],
    )
    phones = [add(f"1.{n}", "po-galaxy-s25", quantity=2) for n in range(3)]
    assert await check(engine, order(add("1", "po-free-bundle", children=phones))) == []


# -- relationships -------------------------------------------------------------------------


async def test_requires_satisfied_in_the_order_at_any_level(engine: Engine) -> None:
    doc = order(
        bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN)),
        add("2", "po-roaming-pass-world"),
        add("3", "po-wifi-router"),
    )
    assert await check(engine, doc) == []


async def test_requires_missing(engine: Engine) -> None:
    problems = await check(engine, order(add("1", "po-fibre-300"), add("2", "po-roaming-pass-world")))
    only(problems, "OFFERING_REQUIREMENT_MISSING", "Roaming pass World", "Mobile M", "Mobile Unlimited", item="2")


async def test_requires_satisfied_by_the_customers_active_product(engine: Engine) -> None:
    await own(engine, "prod-m", "po-mobile-m")
    await own(engine, "prod-old", "po-fibre-300", status="terminated")
    await own(engine, "prod-other", "po-fibre-500", customer="someone-else")
    assert await check(engine, order(add("1", "po-extra-data-10gb"))) == []
    # a terminated product, or another customer's, does not count
    only(await check(engine, order(add("1", "po-wifi-router"))), "OFFERING_REQUIREMENT_MISSING", "Fibre 300")
    # nor does one this very order deletes
    doc = order(add("1", "po-extra-data-10gb"), change("2", "delete", "prod-m"))
    only(await check(engine, doc), "OFFERING_REQUIREMENT_MISSING", "Extra data 10 GB", item="1")


async def test_requires_with_roles_needs_one_per_role(engine: Engine) -> None:
    rels = [
        {"id": "po-fibre-300", "name": "Fibre 300", "relationshipType": "Requires", "role": "access"},
        {"id": "po-fibre-500", "name": "Fibre 500", "relationshipType": "requires", "role": "access"},
        {"id": "po-wifi-router", "name": "Wi-Fi 6 router rental", "relationshipType": "requires", "role": "cpe"},
    ]
    await clone(
        engine,
        "productOffering",
        "po-galaxy-tab-s10fe",
        "po-smart-home",
        name="Smart home",
        productOfferingRelationship=rels,
    )
    ok = order(add("1", "po-smart-home"), add("2", "po-fibre-500"), add("3", "po-wifi-router"))
    assert await check(engine, ok) == []
    only(
        await check(engine, order(add("1", "po-smart-home"), add("2", "po-fibre-500"))),
        "OFFERING_REQUIREMENT_MISSING",
        "Wi-Fi 6 router",
    )


@pytest.mark.parametrize("kind", ["excludes", "Exclusivity"])
async def test_excludes(engine: Engine, kind: str) -> None:
    rels = [{"id": "po-fibre-300", "name": "Fibre 300", "relationshipType": kind}]
    await clone(
        engine, "productOffering", "po-fibre-1000", "po-fibre-pro", name="Fibre Pro", productOfferingRelationship=rels
    )
    assert await check(engine, order(add("1", "po-fibre-pro"), add("2", "po-fibre-500"))) == []
    both = order(add("1", "po-fibre-pro"), add("2", "po-fibre-300"))
    only(await check(engine, both), "OFFERING_EXCLUDED", "Fibre Pro", "Fibre 300", item="1")
    await own(engine, "prod-300", "po-fibre-300")
    only(await check(engine, order(add("1", "po-fibre-pro"))), "OFFERING_EXCLUDED", "Fibre 300")


# -- modify / delete -----------------------------------------------------------------------


async def test_modify_and_delete_own_active_product(engine: Engine) -> None:
    await own(engine, "prod-1", "po-fibre-300")
    await own(engine, "prod-2", "po-mobile-m", status="suspended")
    doc = order(change("1", "modify", "prod-1", status="suspended"), change("2", "delete", "prod-2"))
    assert await check(engine, doc) == []


async def test_product_id_missing(engine: Engine) -> None:
    only(await check(engine, order(change("1", "delete", None))), "PRODUCT_ID_MISSING", "delete", item="1")


async def test_product_not_found(engine: Engine) -> None:
    only(await check(engine, order(change("1", "modify", "prod-ghost"))), "PRODUCT_NOT_FOUND", "prod-ghost")


@pytest.mark.parametrize("status", ["terminated", "cancelled", "aborted "])
async def test_product_ended(engine: Engine, status: str) -> None:
    await own(engine, "prod-1", "po-fibre-300", status=status)
    only(await check(engine, order(change("1", "delete", "prod-1"))), "PRODUCT_NOT_ACTIVE", "prod-1", status.strip())


async def test_product_of_another_customer(engine: Engine) -> None:
    await own(engine, "prod-1", "po-fibre-300", customer="someone-else")
    only(await check(engine, order(change("1", "delete", "prod-1"))), "PRODUCT_NOT_OWNED", "prod-1", CUSTOMER)


async def test_order_without_customer(engine: Engine) -> None:
    await own(engine, "prod-1", "po-fibre-300")
    assert await check(engine, order(add("1", "po-fibre-300"), customer=None)) == []
    doc = order(add("1", "po-fibre-300"), change("2", "modify", "prod-1"), customer=None)
    only(await check(engine, doc), "ORDER_HAS_NO_CUSTOMER", "prod-1", item="2")


async def test_modify_status_only_active_or_suspended(engine: Engine) -> None:
    await own(engine, "prod-1", "po-fibre-300", status="suspended")
    assert await check(engine, order(change("1", "modify", "prod-1", status="active"))) == []
    problems = await check(engine, order(change("1", "modify", "prod-1", status="terminated")))
    only(problems, "PRODUCT_STATUS_NOT_ALLOWED", "'terminated'", "active or suspended")


async def test_modify_characteristics_and_plan_change(engine: Engine) -> None:
    await own(engine, "prod-1", "po-fibre-300")
    speed = [{"name": "Download speed", "value": 1000}]
    bad = order(change("1", "modify", "prod-1", productCharacteristic=speed))
    only(await check(engine, bad), "CHARACTERISTIC_VALUE", "1000", "Fibre 300")
    upgrade = change("1", "modify", "prod-1", productCharacteristic=speed)
    assert await check(engine, order({**upgrade, "productOffering": {"id": "po-fibre-1000"}})) == []
    retired = order({**change("1", "modify", "prod-1"), "productOffering": {"id": "po-mobile-s"}})
    assert {p.code for p in await check(engine, retired)} == {"OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID"}


# -- order-level and other actions ---------------------------------------------------------


async def test_no_change_needs_nothing(engine: Engine) -> None:
    assert await check(engine, order({"id": "1", "action": "noChange", "product": {"id": "whatever"}})) == []


async def test_unknown_action_and_bad_quantity(engine: Engine) -> None:
    only(await check(engine, order({"id": "1", "action": "upgrade"})), "ACTION_UNKNOWN", "'upgrade'", item="1")
    only(await check(engine, order(add("1", "po-fibre-300", quantity=0))), "QUANTITY_INVALID", "Quantity 0", item="1")


async def test_order_without_items(engine: Engine) -> None:
    only(await check(engine, order()), "ORDER_HAS_NO_ITEMS", "no order items", item=None)


async def test_all_problems_are_reported(engine: Engine) -> None:
    doc = order(
        add("1", "po-no-such"),
        add("2", "po-galaxy-s25", {"name": "Colour", "value": "Mint"}),
        bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited")),
        change("4", "modify", "prod-ghost"),
    )
    doc["productOrderItem"][2]["id"] = "3"
    found = {(p.item, p.code) for p in await check(engine, doc)}
    assert found == {
        ("1", "OFFERING_NOT_FOUND"),
        ("2", "CHARACTERISTIC_VALUE"),
        ("1.2", "CHARACTERISTIC_MISSING"),
        ("4", "PRODUCT_NOT_FOUND"),
    }


# -- pricing -------------------------------------------------------------------------------


async def test_price_simple_item(engine: Engine) -> None:
    doc = order(add("1", "po-fibre-300"))
    assert await price(engine, doc) == []
    prices = by_type(doc["productOrderItem"][0]["itemPrice"])
    monthly, setup = prices["recurring"], prices["oneTime"]
    assert amounts(monthly) == (29.99, 24.99)  # 24.99 + 5.00 VAT
    assert monthly["recurringChargePeriod"] == "month"
    assert monthly["price"]["taxRate"] == 20
    assert monthly["productOfferingPrice"]["id"] == "pop-fibre-300-monthly"
    assert monthly["productOfferingPrice"]["name"] == "Fibre 300 monthly fee"
    assert amounts(setup) == (59.00, 49.17)  # technician installation is the default
    assert "recurringChargePeriod" not in setup
    totals = by_type(doc["orderTotalPrice"])
    assert amounts(totals["recurring"]) == (29.99, 24.99)
    assert amounts(totals["oneTime"]) == (59.00, 49.17)


async def test_price_depends_on_characteristics(engine: Engine) -> None:
    doc = order(
        add("1", "po-galaxy-s25"),
        add("2", "po-galaxy-s25", {"name": "Storage", "value": 256}),
        add("3", "po-fibre-500", {"name": "Installation type", "value": "Self-installation"}),
    )
    await price(engine, doc)
    small, large, fibre = (i["itemPrice"] for i in doc["productOrderItem"])
    assert [(p["productOfferingPrice"]["id"], amounts(p)) for p in small] == [
        ("pop-galaxy-s25-128-device", (899.00, 749.17))
    ]
    assert [(p["productOfferingPrice"]["id"], amounts(p)) for p in large] == [
        ("pop-galaxy-s25-256-device", (959.00, 799.17))
    ]
    assert [p["priceType"] for p in fibre] == ["recurring"]  # no installation fee for self-installation


async def test_price_quantity_multiplies_charges_not_usage_rates(engine: Engine) -> None:
    doc = order(add("1", "po-mobile-m", MSISDN, quantity=3), add("2", "po-mobile-m", MSISDN))
    await price(engine, doc)
    three = by_type(doc["productOrderItem"][0]["itemPrice"])
    assert amounts(three["recurring"]) == (74.97, 62.49)  # 3 x (20.83 + 4.16)
    assert amounts(three["oneTime"]) == (29.97, 24.99)  # 3 x (8.33 + 1.66)
    assert amounts(three["usage"]) == (2.00, 1.67)  # per GB, whatever the quantity
    assert three["usage"]["unitOfMeasure"] == "GB"
    totals = doc["orderTotalPrice"]
    assert [t["priceType"] for t in totals] == ["recurring", "oneTime", "usage"]  # usage listed once, apart
    assert amounts(totals[0]) == (99.96, 83.32)  # 4 lines x 24.99
    assert amounts(totals[1]) == (39.96, 33.32)
    assert amounts(totals[2]) == (2.00, 1.67)


async def test_price_bundle_with_discount(engine: Engine) -> None:
    doc = order(
        bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN, quantity=2)),
        add("2", "po-galaxy-s25", {"name": "Storage", "value": 256}),
        add("3", "po-roaming-pass-world"),
        add("4", "po-wifi-router"),
    )
    assert await price(engine, doc) == []
    discount = doc["productOrderItem"][0]["itemPrice"]
    assert [(p["priceType"], p["recurringChargePeriod"], amounts(p)) for p in discount] == [
        ("recurring", "month", (-10.00, -8.33))
    ]
    totals = by_type(doc["orderTotalPrice"])
    # monthly: fibre 39.99 + 2 x unlimited 39.99 - discount 10.00 + roaming 9.99 + router 3.99
    assert amounts(totals["recurring"]) == (123.95, 103.32)
    # once: installation 59.00 + 2 x activation 9.99 + phone 959.00
    assert amounts(totals["oneTime"]) == (1037.98, 865.00)


async def test_price_type_spellings_and_validity(engine: Engine) -> None:
    await clone(
        engine, "productOfferingPrice", "pop-mobile-activation", "pop-setup", name="Setup", priceType="One Time"
    )
    await clone(
        engine, "productOfferingPrice", "pop-router-rental-monthly", "pop-care", name="Care", priceType="Recurring"
    )
    old = {"startDateTime": "2024-01-01T00:00:00Z", "endDateTime": "2024-12-31T23:59:59Z"}
    await clone(engine, "productOfferingPrice", "pop-router-rental-monthly", "pop-old", name="Old", validFor=old)
    refs = [
        {"id": pid, "name": name} for pid, name in (("pop-setup", "Setup"), ("pop-care", "Care"), ("pop-old", "Old"))
    ]
    await clone(engine, "productOffering", "po-galaxy-tab-s10fe", "po-care", productOfferingPrice=refs)
    doc = order(add("1", "po-care"))
    await price(engine, doc)
    assert [(p["name"], p["priceType"]) for p in doc["productOrderItem"][0]["itemPrice"]] == [
        ("Setup", "oneTime"),
        ("Care", "recurring"),
    ]


async def test_given_item_price_is_kept_and_noted(engine: Engine) -> None:
    given = [
        {
            "priceType": "recurring",
            "recurringChargePeriod": "month",
            "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20.0}},
        }
    ]
    doc = order(add("1", "po-fibre-300", itemPrice=given))
    notes = await price(engine, doc)
    assert doc["productOrderItem"][0]["itemPrice"] == given
    assert len(notes) == 2, notes
    assert "item 1" in notes[0] and "20.00 EUR/month" in notes[0] and "29.99 EUR/month" in notes[0]
    assert "oneTime" in notes[1] and "59.00 EUR" in notes[1]


async def test_given_item_price_that_agrees_has_no_note(engine: Engine) -> None:
    doc = order(add("1", "po-fibre-300"))
    await price(engine, doc)
    again = order(add("1", "po-fibre-300", itemPrice=doc["productOrderItem"][0]["itemPrice"]))
    again["orderTotalPrice"] = doc["orderTotalPrice"]
    assert await price(engine, again) == []


async def test_given_order_total_is_kept_and_noted(engine: Engine) -> None:
    total = [
        {
            "priceType": "recurring",
            "recurringChargePeriod": "month",
            "price": {"dutyFreeAmount": {"unit": "EUR", "value": 10}},
        }
    ]
    doc = order(add("1", "po-fibre-300"))
    doc["orderTotalPrice"] = total
    notes = await price(engine, doc)
    assert doc["orderTotalPrice"] == total
    assert any("orderTotalPrice recurring 10.00 EUR/month differs" in n and "24.99 EUR/month" in n for n in notes)
    assert any("oneTime" in n and "49.17 EUR" in n for n in notes)


async def test_priced_order_validates_against_tmf622(engine: Engine) -> None:
    doc = order(
        bundle(add("1.1", "po-fibre-500"), add("1.2", "po-mobile-unlimited", MSISDN, quantity=2)),
        add("2", "po-mobile-m", MSISDN),
        add("3", "po-galaxy-s25"),
        add("4", "po-roaming-pass-world"),
    )
    assert await check(engine, doc) == []
    await price(engine, doc)
    full = {**doc, "id": "o1", "href": "http://test/o1", "state": "acknowledged"}
    assert_valid("622", "ProductOrder", full)
    spec = {"definitions": definitions("622")}
    # the schema accepts almost anything; check the OrderPrice shape by hand too
    prices = [p for i in walk_items(doc["productOrderItem"]) for p in i["itemPrice"]] + doc["orderTotalPrice"]
    for p in prices:
        assert set(p) <= set(spec["definitions"]["OrderPrice"]["properties"])
        assert set(p["price"]) <= set(spec["definitions"]["Price"]["properties"])

"""TMF622 product ordering through HTTP against the demo catalog: accept, then decide.

Every order is answered 201 acknowledged; the order manager then rejects it (reasons in
``note``) or prices, fulfils (TMF637 products) and completes it. Strict mode refuses the
same invalid order at once with 422. Prices are checked against sums worked out by hand
from demo/data/product_catalog.json (catalog prices are duty free; tax included = price + taxAmount).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import TMF622_SPEC, TMF637_SPEC, assert_error, assert_event
from tests.support.database import fresh_database_url
from tests.support.listener import Listener
from tests.support.ordering import (
    INVENTORY,
    ORDERING,
    ORDERS,
    add,
    add_hub,
    added_by,
    assert_622,
    change,
    chars,
    create_offering,
    customer,
    get_order,
    get_product,
    iso,
    load_demo,
    mobile,
    msisdn,
    notes,
    order,
    party,
    place,
    post_cancel,
    post_order,
    products,
    products_of_order,
    wait_cancel,
    wait_state,
)
from tmfstack.apis.ordering.product.fulfil import product_id
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app with the demo catalog for the module; each test orders for its own customers."""
    folder: Path = tmp_path_factory.mktemp("ordering")
    url = fresh_database_url(folder, "ordering.db")
    settings = Settings(
        database_url=url, public_url="http://testserver", export_dir=folder / "exports", retry_base=0.05, retry_max=0.2
    )
    with TestClient(create_app(settings)) as client:
        load_demo(client)
        yield client


def items_of(doc: Doc) -> list[Doc]:
    out = []
    todo = list(doc.get("productOrderItem") or [])
    while todo:
        item = todo.pop(0)
        out.append(item)
        todo.extend(item.get("productOrderItem") or [])
    return out


def money(price: Doc) -> tuple[float, float]:
    """(duty free, tax included) of an OrderPrice."""
    amounts = price["price"]
    return amounts["dutyFreeAmount"]["value"], amounts["taxIncludedAmount"]["value"]


def by_type(prices: list[Doc]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for p in prices:
        out.setdefault(p["priceType"], []).append(money(p))
    return out


def owned(client: TestClient, owner: str, *items: Doc) -> Doc:
    """An active product of ``owner``, ordered through an order of its own (mobile M by default)."""
    doc = place(client, order(*(items or (mobile("1"),)), customer=owner))
    assert doc["state"] == "completed", notes(doc)
    return added_by(client, doc["id"], doc["productOrderItem"][0]["id"])


# -- accept, then decide: one test per validation rule ----------------------------------------


@pytest.fixture(scope="module")
def rule_world(shop: TestClient) -> Doc:
    """Offerings the demo catalog lacks (unsellable, outside validFor) and products of two customers."""
    fibre = {"id": "ps-fibre-access", "name": "Fibre broadband access"}
    world: Doc = {
        "unsellable": create_offering(
            shop, name="Fibre staff only", lifecycleStatus="Launched", isSellable=False, productSpecification=fibre
        )["id"],
        "future": create_offering(
            shop,
            name="Fibre 2099",
            lifecycleStatus="Launched",
            isSellable=True,
            validFor={"startDateTime": "2099-01-01T00:00:00Z"},
            productSpecification=fibre,
        )["id"],
        "expired": create_offering(
            shop,
            name="Fibre 2020",
            lifecycleStatus="Launched",
            isSellable=True,
            validFor={"startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2020-12-31T23:59:59Z"},
            productSpecification=fibre,
        )["id"],
        "owner": customer(),
    }
    world["theirs"] = owned(shop, world["owner"])["id"]
    return world


def bundle(*children: Doc, item_id: str = "1") -> Doc:
    return add(item_id, "po-home-mobile-bundle", productOrderItem=list(children))


RuleCase = tuple[str, Callable[[Doc], list[Doc]], str, list[str]]
RULES: list[RuleCase] = [
    ("unknown offering", lambda w: [add("1", "po-no-such-thing")], "OFFERING_NOT_FOUND", ["po-no-such-thing"]),
    ("retired offering", lambda w: [mobile("1", "po-mobile-s")], "OFFERING_NOT_ORDERABLE", ["Mobile S", "Retired"]),
    ("not sellable", lambda w: [add("1", w["unsellable"])], "OFFERING_NOT_SELLABLE", ["Fibre staff only"]),
    ("valid from 2099", lambda w: [add("1", w["future"])], "OFFERING_NOT_VALID", ["2099-01-01"]),
    ("valid until 2020", lambda w: [add("1", w["expired"])], "OFFERING_NOT_VALID", ["2020-12-31"]),
    (
        "wrong productSpecification",
        lambda w: [add("1", "po-fibre-500", product={"productSpecification": {"id": "ps-mobile-5g"}})],
        "SPECIFICATION_MISMATCH",
        ["ps-mobile-5g", "ps-fibre-access"],
    ),
    (
        "unknown characteristic",
        lambda w: [add("1", "po-fibre-500", chars(Colour="Navy"))],
        "CHARACTERISTIC_UNKNOWN",
        ["Colour", "Download speed"],
    ),
    (
        "wrong value type",
        lambda w: [add("1", "po-fibre-500", chars(Download_speed="fast"))],
        "CHARACTERISTIC_TYPE",
        ["Download speed", "integer", "'fast'"],
    ),
    (
        "value not allowed",
        lambda w: [add("1", "po-fibre-500", chars(Download_speed=300))],
        "CHARACTERISTIC_VALUE",
        ["300", "Download speed", "500"],
    ),
    (
        "value against the pattern",
        lambda w: [mobile("1", number="0612")],
        "CHARACTERISTIC_PATTERN",
        ["0612", "MSISDN"],
    ),
    (
        "characteristic given twice",
        lambda w: [add("1", "po-fibre-500", [*chars(Installation_type="Self-installation")] * 2)],
        "CHARACTERISTIC_CARDINALITY",
        ["Installation type", "2 times"],
    ),
    ("missing mandatory characteristic", lambda w: [add("1", "po-mobile-m")], "CHARACTERISTIC_MISSING", ["MSISDN"]),
    ("bundle without children", lambda w: [bundle()], "BUNDLE_ITEMS_MISSING", ["Home & Mobile bundle"]),
    (
        "bundle with too many lines",
        lambda w: [bundle(add("1.1", "po-fibre-500"), *(mobile(f"1.{n}", "po-mobile-unlimited") for n in range(2, 7)))],
        "BUNDLE_TOO_MANY",
        ["at most 4", "Mobile Unlimited", "has 5"],
    ),
    (
        "bundle without its fibre",
        lambda w: [bundle(mobile("1.1", "po-mobile-unlimited"))],
        "BUNDLE_TOO_FEW",
        ["at least 1", "Fibre 500"],
    ),
    (
        "bundle with a foreign child",
        lambda w: [
            bundle(add("1.1", "po-fibre-500"), mobile("1.2", "po-mobile-unlimited"), add("1.3", "po-wifi-router"))
        ],
        "BUNDLE_OFFERING_NOT_ALLOWED",
        ["po-wifi-router", "not part of"],
    ),
    (
        "children on a simple offering",
        lambda w: [add("1", "po-fibre-500", productOrderItem=[add("1.1", "po-fibre-300")])],
        "NOT_A_BUNDLE",
        ["1.1"],
    ),
    (
        "add-on without a base plan",
        lambda w: [add("1", "po-roaming-pass-world")],
        "OFFERING_REQUIREMENT_MISSING",
        ["Roaming pass World", "Mobile M", "Mobile Unlimited"],
    ),
    (
        "modify of an unknown product",
        lambda w: [change("1", "prod-nope", productCharacteristic=chars(eSIM=True))],
        "PRODUCT_NOT_FOUND",
        ["prod-nope"],
    ),
    (
        "delete of an unknown product",
        lambda w: [change("1", "prod-nope", "delete")],
        "PRODUCT_NOT_FOUND",
        ["prod-nope"],
    ),
    (
        "modify of another customer's product",
        lambda w: [change("1", w["theirs"], productCharacteristic=chars(eSIM=True))],
        "PRODUCT_NOT_OWNED",
        ["does not belong"],
    ),
    (
        "delete of another customer's product",
        lambda w: [change("1", w["theirs"], "delete")],
        "PRODUCT_NOT_OWNED",
        ["does not belong"],
    ),
    (
        "modify to a status a modify cannot set",
        lambda w: [change("1", w["theirs"], status="terminated")],
        "PRODUCT_STATUS_NOT_ALLOWED",
        ["'terminated'"],
    ),
    ("quantity zero", lambda w: [add("1", "po-fibre-500", quantity=0)], "QUANTITY_INVALID", ["0"]),
]


@pytest.mark.parametrize(("case", "build", "code", "words"), RULES, ids=[r[0] for r in RULES])
def test_an_order_breaking_a_rule_is_accepted_then_rejected(
    shop: TestClient, rule_world: Doc, case: str, build: Callable[[Doc], list[Doc]], code: str, words: list[str]
) -> None:
    buyer = rule_world["owner"] if "status" in case else customer()
    doc = post_order(shop, order(*build(rule_world), customer=buyer))
    assert doc["state"] == "acknowledged"
    done = wait_state(shop, doc["id"])
    assert done["state"] == "rejected", notes(done)
    assert {i["state"] for i in items_of(done)} == {"rejected"}
    assert "completionDate" in done
    reasons = [n for n in done["note"] if n["text"].startswith("rejected:")]
    assert reasons, notes(done)
    matching = [n["text"] for n in reasons if f"[{code}]" in n["text"]]
    assert matching, f"no {code} among {notes(done)}"
    for word in words:
        assert any(word in text for text in matching), f"{word!r} not in {matching}"
    assert all(n.get("author") == "order manager" and n.get("date") for n in reasons)
    assert products_of_order(shop, doc["id"]) == []


def test_every_problem_is_reported_at_once_and_nothing_is_fulfilled(shop: TestClient) -> None:
    doc = place(
        shop,
        order(
            add("ok", "po-fibre-500"),
            add("a", "po-no-such-thing"),
            add("b", "po-fibre-500", chars(Colour="Navy")),
            add("c", "po-mobile-m"),
        ),
    )
    assert doc["state"] == "rejected"
    text = notes(doc)
    for line in (
        "item a: ",
        "[OFFERING_NOT_FOUND]",
        "item b: ",
        "[CHARACTERISTIC_UNKNOWN]",
        "item c: ",
        "[CHARACTERISTIC_MISSING]",
    ):
        assert line in text, text
    assert "item ok:" not in text
    assert {i["state"] for i in doc["productOrderItem"]} == {"rejected"}
    assert products_of_order(shop, doc["id"]) == []


def test_an_order_without_items_is_refused_at_once(shop: TestClient) -> None:
    assert_error(shop.post(ORDERS, json={"relatedParty": [party("c")]}), 400)
    assert_error(shop.post(ORDERS, json={"productOrderItem": []}), 400)


@pytest.mark.parametrize(
    "body",
    [
        order({**add("1", "po-fibre-500"), "state": "completed"}),
        order(add("1", "po-fibre-500"), add("1", "po-fibre-300")),
        order(add("1", "po-fibre-500"), state="completed"),
        order(add("1", "po-fibre-500"), completionDate="2030-01-01T00:00:00Z"),
        order({"id": "1", "productOffering": {"id": "po-fibre-500"}}),  # no action
        order({**add("1", "po-fibre-500"), "action": "upgrade"}),
    ],
    ids=["item state", "duplicate item ids", "order state", "completionDate", "no action", "unknown action"],
)
def test_malformed_orders_are_refused_at_once(shop: TestClient, body: Doc) -> None:
    before = len(shop.get(ORDERS, params={"limit": 1000}).json())
    assert_error(shop.post(ORDERS, json=body), 400)
    assert len(shop.get(ORDERS, params={"limit": 1000}).json()) == before


# -- add-ons and their base plan ----------------------------------------------------------------


def test_an_add_on_with_its_base_plan_in_the_same_order_completes(shop: TestClient) -> None:
    doc = place(shop, order(add("1", "po-roaming-pass-world"), mobile("2", "po-mobile-unlimited"), customer=customer()))
    assert doc["state"] == "completed", notes(doc)
    assert added_by(shop, doc["id"], "1")["productOffering"]["id"] == "po-roaming-pass-world"


def test_an_add_on_for_a_base_plan_the_customer_already_has_completes(shop: TestClient) -> None:
    buyer = customer()
    owned(shop, buyer)
    doc = place(shop, order(add("1", "po-roaming-pass-world"), customer=buyer))
    assert doc["state"] == "completed", notes(doc)


def test_an_add_on_for_someone_elses_base_plan_is_rejected(shop: TestClient) -> None:
    owned(shop, customer())
    doc = place(shop, order(add("1", "po-roaming-pass-world"), customer=customer()))
    assert doc["state"] == "rejected" and "[OFFERING_REQUIREMENT_MISSING]" in notes(doc)


def test_an_add_on_for_a_base_plan_deleted_in_the_same_order_is_rejected(shop: TestClient) -> None:
    buyer = customer()
    line = owned(shop, buyer)
    doc = place(shop, order(change("1", line["id"], "delete"), add("2", "po-roaming-pass-world"), customer=buyer))
    assert doc["state"] == "rejected" and "[OFFERING_REQUIREMENT_MISSING]" in notes(doc)
    assert get_product(shop, line["id"])["status"] == "active"


# -- strict mode -------------------------------------------------------------------------------


@pytest.fixture
def strict(settings: Settings) -> Iterator[TestClient]:
    settings.strict_orders = True
    with TestClient(create_app(settings)) as client:
        load_demo(client)
        yield client


def test_strict_mode_refuses_an_invalid_order_with_422(strict: TestClient) -> None:
    body = order(add("1", "po-fibre-500", chars(Download_speed=300)), mobile("2", "po-mobile-s"))
    error = assert_error(strict.post(ORDERS, json=body), 422, "ORDER_INVALID")
    for word in ("item 1", "[CHARACTERISTIC_VALUE]", "item 2", "[OFFERING_NOT_ORDERABLE]", "Download speed"):
        assert word in error["message"], error
    r = strict.get(ORDERS)
    assert r.status_code == 200 and r.json() == [], "a refused order must not be stored"


def test_strict_mode_accepts_a_valid_order_with_201(strict: TestClient) -> None:
    doc = post_order(strict, order(add("1", "po-fibre-500"), mobile("2")))
    done = wait_state(strict, doc["id"])
    assert done["state"] == "completed", notes(done)


# -- prices --------------------------------------------------------------------------------------


def test_prices_are_computed_from_the_catalog(shop: TestClient) -> None:
    doc = place(shop, order(add("1", "po-fibre-500"), mobile("2"), customer=customer()))
    assert doc["state"] == "completed", notes(doc)
    fibre, line = doc["productOrderItem"]
    assert by_type(fibre["itemPrice"]) == {"recurring": [(33.33, 39.99)], "oneTime": [(49.17, 59.0)]}
    assert by_type(line["itemPrice"]) == {
        "recurring": [(20.83, 24.99)],
        "oneTime": [(8.33, 9.99)],
        "usage": [(1.67, 2.0)],
    }
    assert {p["productOfferingPrice"]["id"] for p in fibre["itemPrice"]} == {
        "pop-fibre-500-monthly",
        "pop-fibre-installation",
    }
    monthly = next(p for p in fibre["itemPrice"] if p["priceType"] == "recurring")
    assert monthly["recurringChargePeriod"] == "month" and monthly["price"]["taxIncludedAmount"]["unit"] == "EUR"
    totals = by_type(doc["orderTotalPrice"])
    assert totals["recurring"] == [(54.16, 64.98)]
    assert totals["oneTime"] == [(57.5, 68.99)]
    assert totals["usage"] == [(1.67, 2.0)]  # a rate per GB is listed, never summed
    assert "price check" not in notes(doc)


def test_prices_follow_characteristics_and_quantity(shop: TestClient) -> None:
    doc = place(
        shop,
        order(
            add("1", "po-fibre-300", chars(Installation_type="Self-installation")),
            add("2", "po-galaxy-s25", chars(Storage=256, Colour="Icyblue"), quantity=2),
            customer=customer(),
        ),
    )
    assert doc["state"] == "completed", notes(doc)
    fibre, phones = doc["productOrderItem"]
    assert by_type(fibre["itemPrice"]) == {"recurring": [(24.99, 29.99)]}  # no installation fee
    assert by_type(phones["itemPrice"]) == {"oneTime": [(1598.34, 1918.0)]}  # the 256 GB price, twice
    assert by_type(doc["orderTotalPrice"]) == {"recurring": [(24.99, 29.99)], "oneTime": [(1598.34, 1918.0)]}


def test_bundle_prices_net_out_the_discount(shop: TestClient) -> None:
    doc = place(
        shop,
        order(bundle(add("1.1", "po-fibre-500"), mobile("1.2", "po-mobile-unlimited")), customer=customer()),
    )
    assert doc["state"] == "completed", notes(doc)
    top = doc["productOrderItem"][0]
    assert by_type(top["itemPrice"]) == {"recurring": [(-8.33, -10.0)]}
    totals = by_type(doc["orderTotalPrice"])
    assert totals["recurring"] == [(58.33, 69.98)]  # 33.33 + 33.33 - 8.33 ; 39.99 + 39.99 - 10.00
    assert totals["oneTime"] == [(57.5, 68.99)]  # installation 49.17 + activation 8.33


def test_a_given_price_that_disagrees_is_refused_with_each_disagreement(shop: TestClient) -> None:
    given = [
        {
            "name": "my deal",
            "priceType": "recurring",
            "recurringChargePeriod": "month",
            "price": {"taxIncludedAmount": {"unit": "EUR", "value": 30.0}},
        }
    ]
    total = [
        {
            "priceType": "recurring",
            "recurringChargePeriod": "month",
            "price": {"taxIncludedAmount": {"unit": "EUR", "value": 1.0}},
        }
    ]
    body = order(add("1", "po-fibre-500", itemPrice=given), orderTotalPrice=total, customer=customer())
    message = assert_error(shop.post(ORDERS, json=body), 422, "PRICE_MISMATCH")["message"]
    assert "item 1: itemPrice recurring 30.00 EUR/month differs from the catalog's 39.99" in message
    assert "oneTime" in message and "59.00" in message  # the installation fee is missing
    assert "orderTotalPrice recurring 1.00 EUR/month" in message


def test_a_given_price_that_agrees_is_not_flagged(shop: TestClient) -> None:
    computed = place(shop, order(add("1", "po-fibre-1000"), customer=customer()))["productOrderItem"][0]["itemPrice"]
    doc = place(shop, order(add("1", "po-fibre-1000", itemPrice=computed), customer=customer()))
    assert doc["state"] == "completed" and "price check" not in notes(doc), notes(doc)


# -- fulfilment -------------------------------------------------------------------------------------


def statuses(bodies: list[Doc], pid: str) -> list[str]:
    return [
        b["event"]["product"]["status"]
        for b in bodies
        if b["eventType"] in ("ProductCreateEvent", "ProductStateChangeEvent") and b["event"]["product"]["id"] == pid
    ]


def test_subscription_journey_add_modify_suspend_resume_delete(shop: TestClient, listener: Listener) -> None:
    add_hub(shop, INVENTORY, listener.url)
    buyer = customer()
    who = party(buyer, "Ada Lovelace")
    account = {"id": f"ba-{buyer}", "name": "Ada's account", "@referredType": "BillingAccount"}
    number = msisdn()

    def step(*items: Doc) -> Doc:
        doc = place(shop, order(*items, customer=None, relatedParty=[who], billingAccount=account))
        assert doc["state"] == "completed", notes(doc)
        assert doc["productOrderItem"][0]["state"] == "completed"
        return doc

    first = step(mobile("1", number=number))
    pid = product_id(first["id"], "1")
    product = get_product(shop, pid)
    assert product["status"] == "active" and product["startDate"]
    assert product["productOffering"]["id"] == "po-mobile-m"
    assert product["productSpecification"]["id"] == "ps-mobile-5g"
    assert product["relatedParty"] == [who]
    assert product["billingAccount"] == account
    assert product["isBundle"] is False
    values = {c["name"]: c["value"] for c in product["productCharacteristic"]}
    assert values == {"MSISDN": number, "Data allowance": "30 GB", "Roaming zone": "Zone 1 (EU/EEA)", "eSIM": False}
    assert product["productOrderItem"] == [
        {
            "orderItemId": "1",
            "productOrderId": first["id"],
            "productOrderHref": first["href"],
            "orderItemAction": "add",
            "@referredType": "ProductOrder",
        }
    ]
    assert [p["productOfferingPrice"]["id"] for p in product["productPrice"]] == [
        "pop-mobile-m-monthly",
        "pop-mobile-activation",
        "pop-data-overage-per-gb",
    ]
    assert products(shop, **{"relatedParty.id": buyer}) == [product]

    second = step(change("1", pid, productCharacteristic=chars(eSIM=True)))
    product = get_product(shop, pid)
    assert {c["name"]: c["value"] for c in product["productCharacteristic"]}["eSIM"] is True
    assert product["status"] == "active"
    assert len(product["productCharacteristic"]) == 4

    third = step(change("1", pid, status="suspended"))
    assert get_product(shop, pid)["status"] == "suspended"
    fourth = step(change("1", pid, status="active"))
    assert get_product(shop, pid)["status"] == "active"
    fifth = step(change("1", pid, "delete"))
    product = get_product(shop, pid)
    assert product["status"] == "terminated" and product["terminationDate"] >= product["startDate"]
    assert [(r["productOrderId"], r["orderItemAction"]) for r in product["productOrderItem"]] == [
        (first["id"], "add"),
        (second["id"], "modify"),
        (third["id"], "modify"),
        (fourth["id"], "modify"),
        (fifth["id"], "delete"),
    ]
    assert products(shop, **{"relatedParty.id": buyer, "status": "active"}) == []

    bodies = listener.wait_until(lambda got: "terminated" in statuses(got, pid))
    assert statuses(bodies, pid) == ["created", "active", "suspended", "active", "pendingTerminate", "terminated"]
    for body in bodies:
        assert_event(TMF637_SPEC, body)

    late = place(
        shop, order(change("1", pid, productCharacteristic=chars(eSIM=False)), customer=None, relatedParty=[who])
    )
    assert late["state"] == "rejected" and "[PRODUCT_NOT_ACTIVE]" in notes(late) and "terminated" in notes(late)


def test_a_modify_matches_characteristic_names_like_validation_does(shop: TestClient) -> None:
    buyer = customer()
    line = owned(shop, buyer)
    doc = place(
        shop, order(change("1", line["id"], productCharacteristic=[{"name": "esim", "value": True}]), customer=buyer)
    )
    assert doc["state"] == "completed", notes(doc)
    named = [c for c in get_product(shop, line["id"])["productCharacteristic"] if c["name"].casefold() == "esim"]
    assert [c["value"] for c in named] == [True], named


def test_a_plan_change_moves_the_product_to_the_new_offering(shop: TestClient) -> None:
    buyer = customer()
    line = owned(shop, buyer)
    item = {**change("1", line["id"]), "productOffering": {"id": "po-mobile-unlimited"}}
    doc = place(shop, order(item, customer=buyer))
    assert doc["state"] == "completed", notes(doc)
    assert get_product(shop, line["id"])["productOffering"]["id"] == "po-mobile-unlimited"


def test_a_bundle_creates_parent_and_child_products(shop: TestClient) -> None:
    buyer = customer()
    doc = place(
        shop,
        order(bundle(add("1.1", "po-fibre-500"), mobile("1.2", "po-mobile-unlimited")), customer=buyer),
    )
    assert doc["state"] == "completed", notes(doc)
    assert {i["id"]: i["state"] for i in items_of(doc)} == {"1": "completed", "1.1": "completed", "1.2": "completed"}
    parent, fibre, line = (added_by(shop, doc["id"], i) for i in ("1", "1.1", "1.2"))
    assert parent["isBundle"] is True and parent["productOffering"]["id"] == "po-home-mobile-bundle"
    assert (fibre["productOffering"]["id"], line["productOffering"]["id"]) == ("po-fibre-500", "po-mobile-unlimited")
    assert {p["status"] for p in (parent, fibre, line)} == {"active"}
    children = {fibre["id"], line["id"]}
    assert {p["id"] for p in parent["product"]} == children
    assert all(p["href"].endswith(f"/product/{p['id']}") for p in parent["product"])
    assert {r["product"]["id"] for r in parent["productRelationship"]} == children
    assert all(r["relationshipType"] for r in parent["productRelationship"])
    assert parent["id"] == product_id(doc["id"], "1") and fibre["id"] == product_id(doc["id"], "1.1")
    assert len(products(shop, **{"relatedParty.id": buyer})) == 3


def test_deleting_a_bundle_terminates_its_children(shop: TestClient) -> None:
    buyer = customer()
    doc = place(shop, order(bundle(add("1.1", "po-fibre-500"), mobile("1.2", "po-mobile-unlimited")), customer=buyer))
    assert doc["state"] == "completed", notes(doc)
    parent = added_by(shop, doc["id"], "1")
    gone = place(shop, order(change("1", parent["id"], "delete"), customer=buyer))
    assert gone["state"] == "completed", notes(gone)
    assert {p["name"]: p["status"] for p in products_of_order(shop, doc["id"])} == {
        "Home & Mobile bundle": "terminated",
        "Fibre 500": "terminated",
        "Mobile Unlimited": "terminated",
    }


def test_a_client_cannot_set_a_characteristic_that_is_not_configurable(shop: TestClient) -> None:
    doc = place(shop, order(add("1", "po-galaxy-s25", chars(IMEI="123456789012345")), customer=customer()))
    if doc["state"] == "rejected":
        assert "IMEI" in notes(doc)
        return
    product = added_by(shop, doc["id"], "1")
    assert {"name": "IMEI", "value": "123456789012345"} not in product["productCharacteristic"]


def test_a_future_start_keeps_items_pending_until_then(shop: TestClient) -> None:
    start = iso(2.0)
    doc = post_order(shop, order(add("1", "po-fibre-500"), mobile("2"), requestedStartDate=start, customer=customer()))
    waiting = wait_state(shop, doc["id"], "inProgress")
    assert [i["state"] for i in waiting["productOrderItem"]] == ["pending", "pending"]
    assert "requested start" in notes(waiting)
    assert products_of_order(shop, doc["id"]) == []
    done = wait_state(shop, doc["id"], {"completed", "failed", "partial", "rejected", "cancelled"}, timeout=8)
    assert done["state"] == "completed", notes(done)
    assert done["completionDate"] >= start
    made = products_of_order(shop, doc["id"])
    assert len(made) == 2 and all(p["startDate"] >= start for p in made)


# -- cancellation ------------------------------------------------------------------------------------


def test_cancelling_a_future_dated_order(shop: TestClient) -> None:
    buyer = customer()
    doc = post_order(shop, order(add("1", "po-fibre-500"), mobile("2"), requestedStartDate=iso(3600), customer=buyer))
    wait_state(shop, doc["id"], "inProgress")
    request = post_cancel(shop, doc["id"], "moving abroad")
    assert request["state"] == "acknowledged"
    assert request["productOrder"]["id"] == doc["id"]
    done = wait_cancel(shop, request["id"])
    assert done["state"] == "done" and done["effectiveCancellationDate"]
    cancelled = get_order(shop, doc["id"])
    assert cancelled["state"] == "cancelled"
    assert cancelled["cancellationDate"] and cancelled["cancellationReason"] == "moving abroad"
    assert {i["state"] for i in cancelled["productOrderItem"]} == {"cancelled"}
    assert "assessingCancellation" in notes(cancelled) and "pendingCancellation → cancelled" in notes(cancelled)
    assert products(shop, **{"relatedParty.id": buyer, "status": "active"}) == []
    assert products_of_order(shop, doc["id"]) == []
    listed = shop.get(f"{ORDERING}/cancelProductOrder", params={"productOrder.id": doc["id"]})
    assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [request["id"]]
    assert_622("CancelProductOrder", listed.json())


def test_cancelling_a_completed_order_is_refused_with_a_reason(shop: TestClient) -> None:
    doc = place(shop, order(add("1", "po-fibre-500"), customer=customer()))
    assert doc["state"] == "completed"
    done = wait_cancel(shop, post_cancel(shop, doc["id"], "too slow")["id"])
    assert done["state"] == "terminatedWithError"
    assert "completed" in done["cancellationReason"] and "effectiveCancellationDate" not in done
    assert get_order(shop, doc["id"]) == doc
    assert added_by(shop, doc["id"], "1")["status"] == "active"


def test_cancelling_an_unknown_order_is_refused_with_a_reason(shop: TestClient) -> None:
    done = wait_cancel(shop, post_cancel(shop, "no-such-order", None)["id"])
    assert done["state"] == "terminatedWithError"
    assert "no-such-order" in done.get("cancellationReason", ""), done


def test_cancelling_twice(shop: TestClient) -> None:
    doc = post_order(shop, order(add("1", "po-fibre-500"), requestedStartDate=iso(3600), customer=customer()))
    wait_state(shop, doc["id"], "inProgress")
    assert wait_cancel(shop, post_cancel(shop, doc["id"])["id"])["state"] == "done"
    again = wait_cancel(shop, post_cancel(shop, doc["id"])["id"])
    assert again["state"] == "terminatedWithError" and "cancelled" in again["cancellationReason"]


def test_a_cancellation_request_is_validated(shop: TestClient) -> None:
    assert_error(shop.post(f"{ORDERING}/cancelProductOrder", json={"cancellationReason": "x"}), 400)
    body = {"productOrder": {"id": "x"}, "state": "done"}
    assert_error(shop.post(f"{ORDERING}/cancelProductOrder", json=body), 400)
    assert_error(shop.get(f"{ORDERING}/cancelProductOrder/nope"), 404)


# -- events and history ------------------------------------------------------------------------------


def about(body: Doc, kind: str, id: str) -> bool:
    return (body.get("event") or {}).get(kind, {}).get("id") == id


def test_events_on_the_ordering_and_inventory_hubs(shop: TestClient, listener: Listener) -> None:
    add_hub(shop, ORDERING, listener.url)
    add_hub(shop, INVENTORY, listener.url)
    doc = place(shop, order(add("1", "po-fibre-500"), customer=customer()))
    assert doc["state"] == "completed"
    pid = product_id(doc["id"], "1")

    def complete(got: list[Doc]) -> bool:
        mine = [b for b in got if about(b, "productOrder", doc["id"])]
        return any(
            b["eventType"] == "ProductOrderStateChangeEvent" and b["event"]["productOrder"]["state"] == "completed"
            for b in mine
        ) and "active" in statuses(got, pid)

    bodies = listener.wait_until(complete)
    mine = [b for b in bodies if about(b, "productOrder", doc["id"])]
    assert mine[0]["eventType"] == "ProductOrderCreateEvent"
    assert mine[0]["event"]["productOrder"]["state"] == "acknowledged"
    changes = [b["event"]["productOrder"]["state"] for b in mine if b["eventType"] == "ProductOrderStateChangeEvent"]
    assert changes == ["inProgress", "completed"]
    assert {b["eventType"] for b in mine} <= {
        "ProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderAttributeValueChangeEvent",
    }
    product_events = [b for b in bodies if about(b, "product", pid)]
    assert [b["eventType"] for b in product_events][:1] == ["ProductCreateEvent"]
    assert statuses(product_events, pid) == ["created", "active"]
    for body in mine:
        assert_event(TMF622_SPEC, body)
    for body in product_events:
        assert_event(TMF637_SPEC, body)
    assert len({b["eventId"] for b in bodies}) == len({(b["eventId"], str(b)) for b in bodies})


def test_every_ordering_event_is_a_tmf622_event(shop: TestClient, listener: Listener) -> None:
    add_hub(shop, ORDERING, listener.url)
    doc = post_order(shop, order(add("1", "po-fibre-500"), requestedStartDate=iso(3600), customer=customer()))
    wait_state(shop, doc["id"], "inProgress")
    request = post_cancel(shop, doc["id"])
    assert wait_cancel(shop, request["id"])["state"] == "done"
    bodies = listener.wait_until(
        lambda got: any(
            about(b, "cancelProductOrder", request["id"]) and b["event"]["cancelProductOrder"]["state"] == "done"
            for b in got
            if b["eventType"] == "CancelProductOrderStateChangeEvent"
        )
    )
    cancel_events = [b["eventType"] for b in bodies if about(b, "cancelProductOrder", request["id"])]
    assert cancel_events[0] == "CancelProductOrderCreateEvent"
    for body in bodies:
        assert_event(TMF622_SPEC, body)


def test_the_order_keeps_a_readable_history(shop: TestClient) -> None:
    doc = place(shop, order(add("1", "po-fibre-500"), customer=customer()))
    history = [n for n in doc["note"] if n["author"] == "order manager"]
    texts = [n["text"] for n in history]
    assert texts[0].startswith("acknowledged → inProgress") and texts[-1] == "inProgress → completed"
    dates = [n["date"] for n in history]
    assert dates == sorted(dates) and doc["orderDate"] <= dates[0] <= doc["completionDate"]


def test_orders_can_be_listed_and_filtered(shop: TestClient) -> None:
    buyer = customer()
    done = place(shop, order(add("1", "po-fibre-500"), customer=buyer, externalId=f"ext-{buyer}"))
    r = shop.get(ORDERS, params={"externalId": f"ext-{buyer}", "fields": "state,externalId"})
    assert r.status_code == 200, r.text
    assert r.json() == [{"id": done["id"], "href": done["href"], "state": "completed", "externalId": f"ext-{buyer}"}]
    r = shop.get(ORDERS, params={"state": "completed", "limit": 1000})
    assert done["id"] in {o["id"] for o in r.json()}
    assert_622("ProductOrder", r.json())
    assert_error(shop.get(f"{ORDERS}/no-such-order"), 404)

"""TMF622 v5 beside v4 (``apis/ordering/tmf622_v5.py``): the same orders and the same order manager,
read and written in either version. Every v5 answer is validated against the official v5 file,
every v4 answer against the v4 one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_event
from tests.support.chain import load_chain, resource_orders, service_orders, services
from tests.support.listener import Listener
from tests.support.ordering import (
    ORDER_TERMINAL,
    ORDERS,
    TMF622_SPEC,
    add,
    assert_622,
    chars,
    customer,
    iso,
    load_demo,
    mobile,
    msisdn,
    order,
    place,
    products_of_order,
)
from tests.support.partners import partners
from tests.support.polling import wait_until
from tests.versions.support import assert_v5 as assert_official
from tmfstack.apis.ordering import tmf622_v5
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
V5 = "/tmf-api/productOrderingManagement/v5"
ORDERS_V5 = f"{V5}/productOrder"
CANCELS_V5 = f"{V5}/cancelProductOrder"


def assert_v5(entity: str, body: Any) -> None:
    """``body`` (or each item of a list) is a valid ``entity`` of the official TMF622 v5 file."""
    assert_official(tmf622_v5.API, entity, body)


# -- v5 bodies -----------------------------------------------------------------------------


def party5(customer_id: str) -> Doc:
    return {
        "@type": "RelatedPartyRefOrPartyRoleRef",
        "role": "customer",
        "partyOrPartyRole": {"@type": "PartyRef", "id": customer_id, "@referredType": "Individual"},
    }


def item5(item_id: str, offering: str, **characteristics: Any) -> Doc:
    item: Doc = {
        "@type": "ProductOrderItem",
        "id": item_id,
        "action": "add",
        "quantity": 1,
        "productOffering": {"@type": "ProductOfferingRef", "id": offering},
    }
    if characteristics:
        item["product"] = {
            "@type": "Product",
            "productCharacteristic": [
                {"@type": "StringCharacteristic", "name": name.replace("_", " "), "value": value}
                for name, value in characteristics.items()
            ],
        }
    return item


def order5(*items: Doc, cust: str, **extra: Any) -> Doc:
    return {"@type": "ProductOrder", "productOrderItem": list(items), "relatedParty": [party5(cust)], **extra}


def post5(client: TestClient, body: Doc) -> Doc:
    r = client.post(ORDERS_V5, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_v5("ProductOrder", doc)
    assert doc["href"].endswith(f"/v5/productOrder/{doc['id']}") and doc["state"] == "acknowledged", doc
    return doc


def get5(client: TestClient, order_id: str) -> Doc:
    r = client.get(f"{ORDERS_V5}/{order_id}")
    assert r.status_code == 200, r.text
    assert_v5("ProductOrder", r.json())
    return r.json()


def get4(client: TestClient, order_id: str) -> Doc:
    r = client.get(f"{ORDERS}/{order_id}")
    assert r.status_code == 200, r.text
    assert_622("ProductOrder", r.json())
    return r.json()


def wait5(client: TestClient, order_id: str, states: Any = ORDER_TERMINAL, timeout: float = 15.0) -> Doc:
    return wait_until(lambda: get5(client, order_id), lambda d: d["state"] in states, timeout, f"v5 order {order_id}")


@pytest.fixture
def chain(settings: Settings) -> Iterator[TestClient]:
    """The app with the demo catalogs and pools loaded (the whole fulfilment chain runs)."""
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(TestClient(create_app(settings)))
        load_chain(client)
        yield client


@pytest.fixture
def demo(client: TestClient) -> TestClient:
    load_demo(client)
    return client


# -- the order manager runs the same ------------------------------------------------------


def test_a_v5_order_is_fulfilled_exactly_like_the_v4_one(chain: TestClient) -> None:
    cust4, cust5 = customer(), customer()
    v4 = place(chain, order(add("1", "po-fibre-1000", chars(Installation_type="Self-installation")), customer=cust4))
    posted = post5(chain, order5(item5("1", "po-fibre-1000", Installation_type="Self-installation"), cust=cust5))
    v5 = wait5(chain, posted["id"])
    assert v5["state"] == v4["state"] == "completed", v5
    assert [i["state"] for i in v5["productOrderItem"]] == [i["state"] for i in v4["productOrderItem"]]
    # prices and notes as the order manager wrote them, v5-typed
    strip = _untyped
    assert strip(v5["orderTotalPrice"]) == strip(v4["orderTotalPrice"])
    assert strip(v5["productOrderItem"][0]["itemPrice"]) == strip(v4["productOrderItem"][0]["itemPrice"])
    assert v5["productOrderItem"][0]["itemPrice"][0]["price"]["taxIncludedAmount"]["@type"] == "Money"
    assert [n["text"] for n in v5["note"]] == [n["text"] for n in v4["note"]]
    assert v5["creationDate"] == get4(chain, v5["id"])["orderDate"] and "orderDate" not in v5
    # the same chain below it: service orders, services, resource orders, the product
    for po, cust in ((v4, cust4), (v5, cust5)):
        (so,) = service_orders(chain, po["id"])
        assert so["state"] == "completed" and len(so["serviceOrderItem"]) == 2, so
        assert len(services(chain, cust)) == 5
        assert {ro["state"] for ro in resource_orders(chain, so["id"])} == {"completed"}
        (product,) = products_of_order(chain, po["id"])
        assert product["status"] == "active" and product["productOffering"]["id"] == "po-fibre-1000"
    # the v5 order in v4: a valid v4 order, same id, v4 names
    as4 = get4(chain, v5["id"])
    assert as4["relatedParty"] == [{"id": cust5, "role": "customer", "@referredType": "Individual"}]
    listed = chain.get(ORDERS_V5, params={"relatedParty.partyOrPartyRole.id": cust5})
    assert [d["id"] for d in listed.json()] == [v5["id"]]
    assert_v5("ProductOrder", listed.json())


def _untyped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untyped(v) for k, v in value.items() if k not in ("@type", "href")}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return value


# -- events per hub version -----------------------------------------------------------------


def test_each_hub_hears_the_same_change_in_its_own_version(demo: TestClient) -> None:
    with Listener() as heard5, Listener() as heard4:
        r = demo.post(f"{V5}/hub", json={"@type": "Hub_FVO", "callback": heard5.url})
        assert r.status_code == 201, r.text
        assert_v5("Hub", r.json())
        assert demo.post("/tmf-api/productOrderingManagement/v4/hub", json={"callback": heard4.url}).status_code == 201
        po = post5(demo, order5(item5("1", "po-mobile-m", MSISDN=msisdn()), cust=customer()))
        assert wait5(demo, po["id"])["state"] == "completed"

        def done(bodies: list[Doc]) -> bool:
            return any(
                b.get("eventType") == "ProductOrderStateChangeEvent" and _state(b) == "completed" for b in bodies
            )

        got5, got4 = heard5.wait_until(done), heard4.wait_until(done)
    changes5 = [b for b in got5 if b["eventType"] == "ProductOrderStateChangeEvent"]
    changes4 = [b for b in got4 if b["eventType"] == "ProductOrderStateChangeEvent"]
    assert [_state(b) for b in changes5] == [_state(b) for b in changes4] == ["inProgress", "completed"]
    for body in got5:
        assert body["@type"] == body["eventType"] and "timeOccurred" in body, body
        assert_v5(body["eventType"], body)
        order_doc = body["event"]["productOrder"]
        assert order_doc["id"] == po["id"] and order_doc["href"].endswith(f"/v5/productOrder/{po['id']}")
        assert "creationDate" in order_doc and "partyOrPartyRole" in order_doc["relatedParty"][0]
    for body in got4:
        assert_event(TMF622_SPEC, body)
        assert "orderDate" in body["event"]["productOrder"] and "creationDate" not in body["event"]["productOrder"]
        assert "partyOrPartyRole" not in body["event"]["productOrder"]["relatedParty"][0]


def _state(body: Doc) -> str | None:
    return ((body.get("event") or {}).get("productOrder") or {}).get("state")


# -- cancellation -------------------------------------------------------------------------------


def test_a_v5_cancellation_cancels_the_order(demo: TestClient) -> None:
    later = iso(3600)  # the items wait for their start: the order stays in progress
    po = post5(demo, order5(item5("1", "po-mobile-m", MSISDN=msisdn()), cust=customer(), requestedStartDate=later))
    wait5(demo, po["id"], {"inProgress"})
    body = {
        "@type": "CancelProductOrder",
        "productOrder": {"@type": "ProductOrderRef", "id": po["id"]},
        "cancellationReason": "moved abroad",
    }
    r = demo.post(CANCELS_V5, json=body)
    assert r.status_code == 201, r.text
    cancel = r.json()
    assert_v5("CancelProductOrder", cancel)
    assert cancel["href"].endswith(f"/v5/cancelProductOrder/{cancel['id']}")
    done = wait_until(
        lambda: demo.get(f"{CANCELS_V5}/{cancel['id']}").json(),
        lambda d: d["state"] in ("done", "terminatedWithError"),
        15.0,
        "v5 cancellation",
    )
    assert_v5("CancelProductOrder", done)
    assert done["state"] == "done" and done["productOrder"]["id"] == po["id"], done
    assert wait5(demo, po["id"], {"cancelled"})["cancellationReason"] == "moved abroad"
    listed = demo.get(CANCELS_V5, params={"productOrder.id": po["id"]}).json()
    assert [c["id"] for c in listed] == [cancel["id"]]
    assert_v5("CancelProductOrder", listed)


# -- v4 <-> v5 attributes -------------------------------------------------------------------


def test_external_identifiers_beyond_the_first_are_kept_for_v5(demo: TestClient) -> None:
    ids = [
        {"@type": "ExternalIdentifier", "id": "shop-77", "owner": "MagentoCommerce", "externalIdentifierType": "cart"},
        {"@type": "ExternalIdentifier", "id": "crm-12", "owner": "CRM"},
    ]
    body = order5(
        item5("1", "po-mobile-m", MSISDN=msisdn()), cust=customer(), externalId=ids, requestedStartDate=iso(3600)
    )
    po = post5(demo, body)
    assert po["externalId"] == ids
    wait5(demo, po["id"], {"inProgress"})  # waiting for its start: still open to a client's changes
    assert get4(demo, po["id"])["externalId"] == "shop-77"  # v4: the first identifier's id
    for params in ({"externalId.id": "shop-77"}, {"externalId.id": "shop-77", "fields": "externalId"}):
        found = demo.get(ORDERS_V5, params=params).json()
        assert [d["id"] for d in found] == [po["id"]] and found[0]["externalId"] == ids
    assert demo.get(ORDERS, params={"externalId": "shop-77"}).json()[0]["id"] == po["id"]
    # a v4 client changes the first identifier: v5 sees it replaced, the others kept
    assert demo.patch(f"{ORDERS}/{po['id']}", json={"externalId": "shop-78"}).status_code == 200
    assert get5(demo, po["id"])["externalId"] == [{"@type": "ExternalIdentifier", "id": "shop-78"}, ids[1]]
    # a v4 order's externalId in v5
    v4 = place(demo, order(mobile("1"), customer=customer(), externalId="legacy-1"))
    assert get5(demo, v4["id"])["externalId"] == [{"id": "legacy-1", "@type": "ExternalIdentifier"}]


def test_v5_only_attributes_are_kept_through_v4_changes(demo: TestClient) -> None:
    extra = {
        "productOrderMilestone": [{"@type": "ProductOrderMilestone", "name": "contract signed", "status": "Completed"}],
        "productOrderJeopardyAlert": [{"@type": "ProductOrderJeopardyAlert", "name": "late", "jeopardyType": "delay"}],
        "productOrderErrorMessage": [{"@type": "ProductOrderErrorMessage", "code": "E1", "reason": "retry"}],
        "orderRelationship": [
            {
                "@type": "OrderRelationship",
                "id": "po-earlier",
                "relationshipType": "follows",
                "@referredType": "ProductOrder",
            }
        ],
        "requestedInitialState": "acknowledged",
    }
    cust = customer()
    later = iso(3600)  # the orders wait for their start: still open to a client's changes
    po = post5(demo, order5(item5("1", "po-mobile-m", MSISDN=msisdn()), cust=cust, requestedStartDate=later, **extra))
    wait5(demo, po["id"], {"inProgress"})
    r = demo.patch(f"{ORDERS}/{po['id']}", json={"description": "changed in v4"})
    assert r.status_code == 200, r.text
    assert_622("ProductOrder", r.json())
    again = get5(demo, po["id"])
    assert again["description"] == "changed in v4"
    for key, value in extra.items():
        assert again[key] == value, key
    # and the reverse: a v5 merge patch of a v4 order keeps what v4 wrote
    v4 = place(
        demo, order(mobile("1"), customer=cust, category="residential", requestedStartDate=later), {"inProgress"}
    )
    r = demo.patch(f"{ORDERS_V5}/{v4['id']}", json={"description": "changed in v5"})
    assert r.status_code == 200, r.text
    assert_v5("ProductOrder", r.json())
    back = get4(demo, v4["id"])
    assert back["description"] == "changed in v5" and back["category"] == "residential"
    assert back["orderDate"] == v4["orderDate"] and back["relatedParty"] == v4["relatedParty"]


def test_a_v4_order_reads_in_v5_with_v5_names_filters_and_sort(demo: TestClient) -> None:
    cust = customer()
    first = place(demo, order(mobile("1"), customer=cust))
    second = place(demo, order(mobile("1"), customer=cust))
    (product,) = products_of_order(demo, first["id"])
    modify = place(
        demo,
        order({"id": "1", "action": "modify", "product": {"id": product["id"], "@type": "ProductRef"}}, customer=cust),
    )
    shown = get5(demo, modify["id"])
    assert shown["productOrderItem"][0]["product"]["@type"] == "ProductRef"
    assert shown["creationDate"] == modify["orderDate"]
    assert shown["relatedParty"][0]["partyOrPartyRole"] == {
        "id": cust,
        "@referredType": "Individual",
        "@type": "PartyRef",
        "name": f"Customer {cust}",
    }
    mine = {"relatedParty.partyOrPartyRole.id": cust}
    for sort, expected in (("creationDate", [first, second, modify]), ("-creationDate", [modify, second, first])):
        r = demo.get(ORDERS_V5, params={**mine, "sort": sort, "fields": "creationDate,state"})
        assert r.status_code == 200, r.text
        assert [d["id"] for d in r.json()] == [d["id"] for d in expected]
        assert all(set(d) == {"id", "href", "@type", "creationDate", "state"} for d in r.json()), r.json()
    found = demo.get(ORDERS_V5, params={**mine, "state": "completed", "creationDate.gte": second["orderDate"]})
    assert sorted(d["id"] for d in found.json()) == sorted([second["id"], modify["id"]])
    assert_v5("ProductOrder", found.json())


def test_a_draft_order_is_refused_clearly(demo: TestClient) -> None:
    body = order5(item5("1", "po-mobile-m", MSISDN=msisdn()), cust=customer(), requestedInitialState="draft")
    r = demo.post(ORDERS_V5, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "UNSUPPORTED_INITIAL_STATE" and "draft" in r.json()["message"]
    assert r.json()["@type"] == "Error"
    assert (
        demo.get(
            ORDERS_V5, params={"relatedParty.partyOrPartyRole.id": body["relatedParty"][0]["partyOrPartyRole"]["id"]}
        ).json()
        == []
    )


# -- partners -------------------------------------------------------------------------------------


def test_a_partners_v5_view_shows_only_its_orders(secure_settings: Settings) -> None:
    with partners(secure_settings) as world:
        operator, a, b = world.operator, world.a, world.b
        r = a.post(ORDERS_V5, json=order5(item5("1", "po-mobile-m", MSISDN=msisdn()), cust="cust-of-a"))
        assert r.status_code == 201, r.text
        mine = r.json()
        assert_v5("ProductOrder", mine)
        seller = [p for p in mine["relatedParty"] if p["role"] == "Seller"]
        assert seller == [
            {
                "role": "Seller",
                "@type": "RelatedPartyRefOrPartyRoleRef",
                "partyOrPartyRole": {"id": "org-a", "@referredType": "Organization", "@type": "PartyRef"},
            }
        ]
        assert [d["id"] for d in a.get(ORDERS_V5).json()] == [mine["id"]]
        assert b.get(ORDERS_V5).json() == [] and b.get(ORDERS_V5).headers["x-total-count"] == "0"
        assert b.get(f"{ORDERS_V5}/{mine['id']}").status_code == 404
        assert b.patch(f"{ORDERS_V5}/{mine['id']}", json={"description": "x"}).status_code == 404
        assert operator.get(f"{ORDERS_V5}/{mine['id']}").status_code == 200
        theirs = b.post(CANCELS_V5, json={"productOrder": {"id": mine["id"]}})
        assert theirs.status_code == 422 and theirs.json()["code"] == "REFERENCE_NOT_FOUND", theirs.text


def test_places_are_wrapped_both_ways(demo: TestClient) -> None:
    address = {"role": "installationAddress", "streetName": "Ring", "streetNr": "1", "postcode": "1010", "city": "Wien"}
    site = {"id": "site-9", "role": "deliverySite", "@referredType": "GeographicSite"}
    reference = {"id": "addr-1", "role": "billingAddress"}
    line = mobile("1")
    line["product"]["place"] = [address, site, reference]
    v4 = place(demo, order(line, customer=customer()))
    shown = get5(demo, v4["id"])["productOrderItem"][0]["product"]["place"]
    assert [(p["role"], p["place"]["@type"]) for p in shown] == [
        ("installationAddress", "GeographicAddress"),
        ("deliverySite", "PlaceRef"),
        ("billingAddress", "PlaceRef"),
    ]
    assert shown[0]["place"]["city"] == "Wien" and shown[2]["place"]["id"] == "addr-1"
    assert shown[1]["place"]["@referredType"] == "GeographicSite"
    # posted in v5, stored as v4 has it
    item = item5("1", "po-mobile-m", MSISDN=msisdn())
    item["product"]["place"] = shown
    made = post5(demo, order5(item, cust=customer()))
    stored = get4(demo, made["id"])["productOrderItem"][0]["product"]["place"]
    assert stored[0] == {**address, "@referredType": "GeographicAddress"}
    assert stored[1] == site and stored[2] == reference

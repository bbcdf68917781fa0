"""A client bound to a partner acts for that partner only: what it creates records it as
Seller, and on every API it may use it sees (lists, reads, changes, deletes, cancels, hears
events of) only its own business; another partner's ids are 404s, never 403s."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.listener import Listener
from tests.support.ordering import CANCELS, ORDER_TERMINAL, ORDERS, PRODUCTS, mobile, order
from tests.support.partners import World, partners
from tests.support.polling import wait_until
from tests.support.security import Caller
from tmfstack.apis import all_apis
from tmfstack.settings import Settings

Doc = dict[str, Any]
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
CHECK = "/tmf-api/serviceQualificationManagement/v4/checkServiceQualification"
QUERY = "/tmf-api/serviceQualificationManagement/v4/queryServiceQualification"
OFFER_QUERY = "/tmf-api/productOfferingQualification/v5/queryProductOfferingQualification"
INDIVIDUALS = "/tmf-api/party/v4/individual"
ORGANIZATIONS = "/tmf-api/party/v4/organization"
ROLES = "/tmf-api/partyRoleManagement/v4/partyRole"
ADDRESS = {"role": "installationAddress", "streetName": "Ring", "streetNr": "1", "postcode": "1010", "city": "Wien"}


@pytest.fixture
def world(secure_settings: Settings) -> Iterator[World]:
    with partners(secure_settings) as it:
        yield it


def wait_order(caller: Caller, order_id: str, timeout: float = 15.0) -> Doc:
    return wait_until(
        lambda: caller.get(f"{ORDERS}/{order_id}").json(),
        lambda doc: doc.get("state") in ORDER_TERMINAL,
        timeout,
        f"order {order_id} ended",
    )


#: (collection path, body) of everything a partner client may create, per API it may write
CREATABLE: dict[str, Callable[[], Doc]] = {
    ORDERS: lambda: order(mobile("1"), customer="cust-of-a"),
    POQ: lambda: {
        "instantSyncQualification": True,
        "relatedParty": [{"id": "cust-of-a", "role": "customer", "@referredType": "Individual"}],
        "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-mobile-m"}}],
    },
    CHECK: lambda: {
        "instantSyncQualification": True,
        "serviceQualificationItem": [
            {"id": "1", "service": {"serviceSpecification": {"id": "ss-cfs-internet-access"}, "place": [ADDRESS]}}
        ],
    },
    QUERY: lambda: {"instantSyncQualification": True, "searchCriteria": {"service": {"place": [ADDRESS]}}},
    OFFER_QUERY: lambda: {  # v5's own resource, stored in its v5 shape
        "@type": "QueryProductOfferingQualification",
        "instantSyncQualification": True,
        "relatedParty": [
            {
                "@type": "RelatedPartyOrPartyRole",
                "role": "customer",
                "partyOrPartyRole": {"@type": "PartyRef", "id": "cust-of-a", "@referredType": "Individual"},
            }
        ],
        "searchCriteria": {"@type": "QueryProductOfferingQualificationItem", "id": "1"},
    },
    INDIVIDUALS: lambda: {"givenName": "Zoe", "familyName": "Customer-of-A"},
    ORGANIZATIONS: lambda: {"tradingName": "Small shop of A"},
    ROLES: lambda: {"name": "customer", "engagedParty": {"id": "cust-of-a", "@referredType": "Individual"}},
}
#: collections a partner may create in that are not in CREATABLE, with the test that covers them
ELSEWHERE = {CANCELS: "test_a_partner_cancels_only_its_own_orders"}


def test_the_table_covers_every_collection_a_partner_may_write() -> None:
    writable = set()
    for api in all_apis():
        if api.partner_access != "write":
            continue
        for name, decl in api.resources.items():
            if "create" in api.contract.operations[name] and not decl.shared:
                writable.add(f"{api.root}/{name}")
    assert writable == set(CREATABLE) | set(ELSEWHERE)


@pytest.mark.parametrize("path", sorted(CREATABLE))
def test_another_partner_sees_nothing_of_it(world: World, path: str) -> None:
    r = world.a.post(path, json=CREATABLE[path]())
    assert r.status_code in (200, 201), r.text
    mine = r.json()
    sellers = [p for p in mine["relatedParty"] if p.get("role") == "Seller"]
    seller = {"id": "org-a", "role": "Seller", "@referredType": "Organization"}
    if "/v5/" in path:  # a v5 resource of its own names the party in its v5 shape
        ref = {"id": "org-a", "@referredType": "Organization", "@type": "PartyRef"}
        seller = {"role": "Seller", "partyOrPartyRole": ref, "@type": "RelatedPartyOrPartyRole"}
    assert sellers == [seller]
    item = f"{path}/{mine['id']}"
    # A and the operator see it
    assert world.a.get(item).status_code == 200
    assert world.operator.get(item).status_code == 200
    listed = world.a.get(path)
    assert mine["id"] in [d["id"] for d in listed.json()]
    assert world.operator.get(f"{path}?id={mine['id']}").headers["x-total-count"] == "1"
    # B does not: not listed, not counted, and its id does not exist for B
    theirs = world.b.get(path)
    assert theirs.status_code == 200 and theirs.json() == [] and theirs.headers["x-total-count"] == "0"
    assert world.b.get(f"{path}?id={mine['id']}").headers["x-total-count"] == "0"
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"description": "mine now"}}), ("DELETE", {})):
        r = world.b.request(method, item, **kwargs)
        assert r.status_code == 404, (method, r.text)
        assert r.json()["code"] == "NOT_FOUND"
    # ... also when it asks conditionally (a 412 would tell that the id exists)
    assert world.b.request("PATCH", item, json={"description": "x"}, headers={"If-Match": '"1"'}).status_code == 404
    assert world.a.get(item).status_code == 200  # still there


def test_a_partner_names_only_itself_as_seller(world: World) -> None:
    body = order(mobile("1"), customer="cust-of-a")
    body["relatedParty"].append({"id": "org-b", "role": "Seller", "@referredType": "Organization"})
    r = world.a.post(ORDERS, json=body)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_PARTY", r.text
    person = world.a.post(INDIVIDUALS, json=CREATABLE[INDIVIDUALS]()).json()
    for parties in ([], [{"id": "org-b", "role": "Seller", "@referredType": "Organization"}]):
        r = world.a.patch(f"{INDIVIDUALS}/{person['id']}", json={"relatedParty": parties})
        assert r.status_code == 400 and r.json()["code"] == "READ_ONLY_ATTRIBUTE", r.text
    # the operator may sell on a partner's behalf
    body = order(mobile("1"), customer="cust-of-a")
    body["relatedParty"].append({"id": "org-a", "role": "Seller", "@referredType": "Organization"})
    placed = world.operator.post(ORDERS, json=body).json()
    assert world.a.get(f"{ORDERS}/{placed['id']}").status_code == 200


def test_a_partners_products_are_its_own(world: World) -> None:
    placed = world.a.post(ORDERS, json=order(mobile("1"), customer="cust-of-a")).json()
    done = wait_order(world.a, placed["id"])
    assert done["state"] == "completed", done
    products = world.a.get(f"{PRODUCTS}?relatedParty.id=cust-of-a").json()
    assert len(products) == 1
    product = products[0]
    assert {"id": "org-a", "role": "Seller", "@referredType": "Organization"} in product["relatedParty"]
    assert world.b.get(f"{PRODUCTS}/{product['id']}").status_code == 404
    assert world.b.get(PRODUCTS).headers["x-total-count"] == "0"
    assert world.operator.get(f"{PRODUCTS}/{product['id']}").status_code == 200
    # B cannot order a change of A's product: for B it does not exist
    change = {"id": "1", "action": "modify", "product": {"id": product["id"]}}
    rejected = wait_order(world.b, world.b.post(ORDERS, json=order(change, customer="cust-of-a")).json()["id"])
    assert rejected["state"] == "rejected"
    assert any("PRODUCT_NOT_FOUND" in n["text"] for n in rejected["note"]), rejected["note"]


def test_a_partner_cancels_only_its_own_orders(world: World) -> None:
    body = order(mobile("1", requestedStartDate="2099-01-01T00:00:00Z"), customer="cust-of-a")
    placed = world.a.post(ORDERS, json={**body, "requestedStartDate": "2099-01-01T00:00:00Z"}).json()
    for target in (placed["id"], "no-such-order"):
        r = world.b.post(CANCELS, json={"productOrder": {"id": target}})
        assert r.status_code == 422 and r.json()["code"] == "REFERENCE_NOT_FOUND", r.text
    assert world.b.get(CANCELS).json() == []
    mine = world.a.post(CANCELS, json={"productOrder": {"id": placed["id"]}})
    assert mine.status_code == 201, mine.text
    assert world.b.get(f"{CANCELS}/{mine.json()['id']}").status_code == 404
    assert [c["id"] for c in world.a.get(CANCELS).json()] == [mine.json()["id"]]


def test_hubs_and_events_are_the_partners_own(world: World) -> None:
    hub_path = "/tmf-api/productOrderingManagement/v4/hub"
    with Listener() as heard_by_a, Listener() as heard_by_b, Listener() as heard_by_operator:
        hubs = {}
        for caller, listener in ((world.a, heard_by_a), (world.b, heard_by_b), (world.operator, heard_by_operator)):
            r = caller.post(hub_path, json={"callback": listener.url})
            assert r.status_code == 201, r.text
            hubs[caller.id] = r.json()["id"]
        # B can neither read nor remove A's subscription
        assert world.b.get(f"{hub_path}/{hubs['partner-a']}").status_code == 404
        assert world.b.delete(f"{hub_path}/{hubs['partner-a']}").status_code == 404
        assert world.a.get(f"{hub_path}/{hubs['partner-a']}").status_code == 200
        placed = world.a.post(ORDERS, json=order(mobile("1"), customer="cust-of-a")).json()
        assert wait_order(world.a, placed["id"])["state"] == "completed"
        events = heard_by_a.wait_for(2, timeout=10)
        assert all(e["event"]["productOrder"]["id"] == placed["id"] for e in events)
        assert heard_by_operator.wait_for(2, timeout=10)
        time.sleep(0.5)  # B's hub would have been served by now
        assert heard_by_b.bodies == []


def test_a_partner_is_never_its_own_customer(world: World) -> None:
    """An order naming no customer stays without one: the Seller entry is not taken for the buyer."""
    placed = world.a.post(ORDERS, json={"productOrderItem": [mobile("1")]})
    assert placed.status_code == 201, placed.text
    assert [p["role"] for p in placed.json()["relatedParty"]] == ["Seller"]
    assert wait_order(world.a, placed.json()["id"])["state"] == "completed"
    products = world.a.get(f"{PRODUCTS}?productOrderItem.productOrderId={placed.json()['id']}").json()
    assert len(products) == 1 and products[0]["relatedParty"] == [
        {"id": "org-a", "role": "Seller", "@referredType": "Organization"}
    ]


def test_a_partners_counts_stay_exact_through_changes_and_deletes(world: World) -> None:
    """A partner's X-Total-Count comes from a counter kept with its Seller entries."""
    made = [world.a.post(INDIVIDUALS, json={"givenName": "P", "familyName": str(n)}).json()["id"] for n in range(3)]

    def count(caller: Caller) -> int:
        return int(caller.get(f"{INDIVIDUALS}?limit=1").headers["x-total-count"])

    assert (count(world.a), count(world.b)) == (3, 0)
    # the operator hands one to B, and removes another
    moved = world.operator.patch(
        f"{INDIVIDUALS}/{made[0]}",
        json={"relatedParty": [{"id": "org-b", "role": "Seller", "@referredType": "Organization"}]},
    )
    assert moved.status_code == 200, moved.text
    assert world.operator.delete(f"{INDIVIDUALS}/{made[1]}").status_code == 204
    assert (count(world.a), count(world.b)) == (1, 1)
    assert [p["id"] for p in world.b.get(INDIVIDUALS).json()] == [made[0]]
    # a change that keeps the Seller moves no counter
    assert world.a.patch(f"{INDIVIDUALS}/{made[2]}", json={"givenName": "Q"}).status_code == 200
    assert (count(world.a), count(world.b)) == (1, 1)

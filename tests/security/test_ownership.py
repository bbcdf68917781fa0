"""What the order manager fulfilled is changed only through orders (README: Hardening: ownership).

A mobile line is ordered for one customer: its product is active, its services active, its
number (MSISDN) a TMF639 resource the order took. A client holding every write scope but
``admin`` tries to take them over directly; each attempt is refused with a 409 and leaves the
record as it was. An operator's override (``X-Override-Reason`` with ``admin``) passes and is
audited at ``/admin/overrides``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.support.chain import load_chain
from tests.support.ordering import ORDER_TERMINAL, ORDERS, PRODUCTS, mobile, msisdn, order
from tests.support.polling import wait_until
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
SERVICES = "/tmf-api/serviceInventory/v4/service"
RESOURCES = "/tmf-api/resourceInventoryManagement/v4/resource"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
MONITORS = "/tmf-api/ServiceActivationAndConfiguration/v4/monitor"
APIS = ("620", "622", "633", "634", "637", "638", "639", "640", "641", "652", "685")
#: every read and write scope, not admin: a back-office tool, not an operator
CLERK = [f"tmf{api}:{a}" for api in APIS for a in ("read", "write")]


@dataclasses.dataclass
class Line:
    """A delivered mobile line of ``customer``: product, services and its number."""

    customer: str
    number: str
    product: Doc
    services: list[Doc]
    resource: Doc


@dataclasses.dataclass
class World:
    secured: Secured
    ops: Caller  # operator scopes, admin included
    clerk: Caller  # every API's write scope, no admin

    def line(self, customer: str) -> Line:
        number = msisdn()
        placed = self.ops.post(ORDERS, json=order(mobile("1", number=number), customer=customer))
        assert placed.status_code == 201, placed.text
        done = wait(self.ops, f"{ORDERS}/{placed.json()['id']}")
        assert done["state"] == "completed", done
        [product] = self.ops.get(PRODUCTS, params={"productOrderItem.productOrderId": done["id"]}).json()
        services = self.ops.get(SERVICES, params={"relatedParty.id": customer}).json()
        [resource] = self.ops.get(RESOURCES, params={"name": number}).json()
        assert product["status"] == "active" and resource["resourceStatus"] == "reserved"
        assert services and all(s["state"] == "active" for s in services)
        return Line(customer, number, product, services, resource)


def wait(caller: Caller, url: str, timeout: float = 15.0) -> Doc:
    return wait_until(
        lambda: caller.get(url).json(), lambda doc: doc.get("state") in ORDER_TERMINAL, timeout, f"{url} ended"
    )


@pytest.fixture
def world(secure_settings: Settings) -> Iterator[World]:
    with TestClient(create_app(secure_settings)) as client:
        secured = Secured(client)
        ops = secured.login("ops", ["operator"])
        load_chain(ops, pool_size=3)  # the demo catalogs and pools
        yield World(secured, ops, secured.login("clerk", CLERK))


def refused(response: Any, status: int = 409, code: str = "OWNED_BY_ORDER") -> Doc:
    assert response.status_code == status, response.text
    body: Doc = response.json()
    assert body["code"] == code and body["status"] == str(status) and body["reason"] and body["message"], body
    return body


def only_orders_change(world: World, url: str, held: Doc, change: Doc, allowed: Doc) -> httpx.Response:
    """The client's ``change`` and delete of a held record are refused and leave it as it was;
    a change of what the client may touch (``allowed``) goes through."""
    refused(world.clerk.patch(url, json=change))
    refused(world.clerk.delete(url))
    assert world.ops.get(url).json() == held
    return world.clerk.patch(url, json=allowed)


def test_a_served_number_cannot_be_given_back_and_taken_by_another_customer(world: World) -> None:
    line = world.line("cust-a")
    url = f"{RESOURCES}/{line.resource['id']}"
    refused(world.clerk.patch(url, json={"resourceStatus": "available", "relatedParty": []}))
    assert world.ops.get(url).json() == line.resource
    # so the number stays the first customer's: ordering it for another fails
    other = world.ops.post(ORDERS, json=order(mobile("1", number=line.number), customer="cust-b"))
    assert wait(world.ops, f"{ORDERS}/{other.json()['id']}")["state"] == "failed"
    assert world.ops.get(url).json()["relatedParty"] == line.resource["relatedParty"]


@pytest.mark.parametrize(
    "change",
    [
        {"relatedParty": [{"id": "cust-thief", "role": "customer", "@referredType": "Individual"}]},
        {"name": "+33610000000"},
        {"resourceRelationship": []},
        {"@type": "PhysicalResource"},
        {"resourceCharacteristic": [{"name": "value", "value": "x"}]},
    ],
    ids=["owner", "number", "relationships", "type", "characteristics"],
)
def test_a_held_resource_changes_only_its_description_and_notes(world: World, change: Doc) -> None:
    line = world.line("cust-a")
    url = f"{RESOURCES}/{line.resource['id']}"
    ok = only_orders_change(world, url, line.resource, change, {"description": "SIM swapped in shop 12"})
    assert ok.status_code == 200 and ok.json()["description"] == "SIM swapped in shop 12"


def test_a_fulfilled_service_is_moved_and_deleted_only_by_orders(world: World) -> None:
    line = world.line("cust-a")
    for service in line.services:
        url = f"{SERVICES}/{service['id']}"
        refused(world.clerk.patch(url, json={"state": "terminated"}))
        refused(world.clerk.patch(url, json={"relatedParty": [{"id": "cust-thief", "@referredType": "Individual"}]}))
        refused(world.clerk.patch(url, json={"supportingResource": []}))
        refused(world.clerk.delete(url))
        assert world.ops.get(url).json() == service
        assert world.clerk.patch(url, json={"name": "Anna's phone"}).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"status": "terminated"},
        {"relatedParty": [{"id": "cust-thief", "role": "customer", "@referredType": "Individual"}]},
        {"productPrice": [{"priceType": "recurring", "price": {"taxIncludedAmount": {"unit": "EUR", "value": 0}}}]},
        {"productCharacteristic": [{"name": "MSISDN", "value": "+33610000001"}]},
        {"realizingService": []},
        {"@type": "Bundle"},
    ],
    ids=["status", "owner", "price", "characteristics", "relationships", "type"],
)
def test_an_ordered_product_is_changed_only_through_orders(world: World, change: Doc) -> None:
    line = world.line("cust-a")
    url = f"{PRODUCTS}/{line.product['id']}"
    ok = only_orders_change(world, url, line.product, change, {"name": "Anna's line"})
    assert ok.json()["name"] == "Anna's line"


def test_a_client_cannot_create_fulfilled_records(world: World) -> None:
    owner = [{"id": "cust-a", "role": "customer", "@referredType": "Individual"}]
    spec = {"id": "ss-x", "@referredType": "ServiceSpecification"}
    refused(world.clerk.post(PRODUCTS, json={"name": "free line", "status": "active", "relatedParty": owner}))
    ref = [{"productOrderId": "po-forged", "orderItemId": "1"}]
    refused(world.clerk.post(PRODUCTS, json={"name": "x", "status": "created", "productOrderItem": ref}))
    refused(world.clerk.post(SERVICES, json={"state": "active", "serviceSpecification": spec, "relatedParty": owner}))
    refused(world.clerk.post(RESOURCES, json={"name": "+33612345678", "resourceStatus": "reserved"}))
    assert world.ops.get(PRODUCTS, params={"relatedParty.id": "cust-a"}).json() == []
    # what no order fulfils yet a client may record, but not move into a fulfilled state
    draft = world.clerk.post(PRODUCTS, json={"name": "draft", "status": "created"})
    assert draft.status_code == 201, draft.text
    refused(world.clerk.patch(f"{PRODUCTS}/{draft.json()['id']}", json={"status": "active"}))
    assert world.clerk.delete(f"{PRODUCTS}/{draft.json()['id']}").status_code == 204
    stock = world.clerk.post(RESOURCES, json={"name": "+33612345679", "resourceStatus": "available"})
    assert stock.status_code == 201, stock.text
    refused(world.clerk.patch(f"{RESOURCES}/{stock.json()['id']}", json={"resourceStatus": "reserved"}))


def test_an_override_needs_admin_and_is_audited(world: World) -> None:
    line = world.line("cust-a")
    url = f"{PRODUCTS}/{line.product['id']}"
    why = {"X-Override-Reason": "ticket 4711: migrated twice"}
    refused(world.clerk.patch(url, json={"status": "terminated"}, headers=why), 403, "INSUFFICIENT_SCOPE")
    refused(
        world.ops.patch(url, json={"status": "terminated"}, headers={"X-Override-Reason": " "}), 400, "INVALID_HEADER"
    )
    refused(world.ops.patch(url, json={"status": "terminated"}))  # the operator too, without an override
    done = world.ops.patch(url, json={"status": "terminated"}, headers=why)
    assert done.status_code == 200 and done.json()["status"] == "terminated", done.text
    [record] = world.ops.get("/admin/overrides", params={"resource": line.product["id"]}).json()
    assert record["clientId"] == "ops" and record["reason"] == "ticket 4711: migrated twice"
    assert record["operation"] == "update" and record["changed"] == ["status"] and record["date"]
    assert record["resource"]["href"] == line.product["href"] and record["overridden"]
    assert world.clerk.get("/admin/overrides").status_code == 403


def test_activation_requests_name_an_inventory_service_and_its_allowed_moves(world: World) -> None:
    line = world.line("cust-a")
    rfs = next(s for s in line.services if s["category"] == "ResourceFacingService")
    spec = rfs["serviceSpecification"]
    before = len(world.ops.get(MONITORS).json())
    # a request for a service the inventory does not have never reaches the network
    made_up = world.clerk.post(ACTIVATIONS, json={"state": "active", "serviceSpecification": spec})
    refused(made_up, 422, "SERVICE_NOT_FOUND")
    # the inventory says the service ended (an audited operator correction): no request may revive it
    why = {"X-Override-Reason": "line ported out"}
    assert world.ops.patch(f"{SERVICES}/{rfs['id']}", json={"state": "terminated"}, headers=why).status_code == 200
    refused(world.clerk.patch(f"{ACTIVATIONS}/{rfs['id']}", json={"state": "inactive"}), 409, "INVALID_TRANSITION")
    refused(world.clerk.delete(f"{ACTIVATIONS}/{rfs['id']}"))
    assert len(world.ops.get(MONITORS).json()) == before

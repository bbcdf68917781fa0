"""A pool member is never held twice, and only its customer's orders give it back
(README: Hardening: ownership). TMF685 reservations are capped per request and per customer."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.polling import wait_until
from tests.support.security import Caller, Secured
from tests.support.sro import PM, RI, RO, Chain, make_chain, uid
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
RORDERS = f"{RO}/resourceOrder"
RESERVATIONS = f"{PM}/reservation"
ALL = ["operator"]


@pytest.fixture
def ops(secure_settings: Settings) -> Iterator[Caller]:
    settings = dataclasses.replace(secure_settings, reservation_max=5, reservation_customer_max=8)
    with TestClient(create_app(settings)) as client:
        yield Secured(client).login("ops", ALL)


def customer(id: str) -> Doc:
    return {"id": id, "role": "customer", "@referredType": "Individual"}


def place(ops: Caller, cust: str, *items: Doc) -> Doc:
    r = ops.post(RORDERS, json={"relatedParty": [customer(cust)], "orderItem": list(items)})
    assert r.status_code == 201, r.text
    url = f"{RORDERS}/{r.json()['id']}"
    ended = {"completed", "failed"}
    done: Doc = wait_until(lambda: ops.get(url).json(), lambda d: d["state"] in ended, what="resource order ended")
    return done


def add(chain: Chain, resource: Doc | None = None) -> Doc:
    item: Doc = {"id": "1", "action": "add", "quantity": 1, "resourceSpecification": chain.spec_ref}
    if resource is not None:
        item["resource"] = {"id": resource["id"], "href": resource["href"]}
    return item


def reservation(chain: Chain, amount: Any, cust: str) -> Doc:
    capacity = {"capacityDemandAmount": str(amount), "resourcePool": {"id": chain.pool["id"]}}
    return {"relatedParty": customer(cust), "reservationItem": [{"resourceCapacity": capacity}]}


def held_by(ops: Caller, chain: Chain) -> dict[str, str]:
    """Member id -> the customer it is held for (members not free)."""
    docs = ops.get(f"{RI}/resource", params={"resourceSpecification.id": chain.resource_spec["id"]}).json()
    return {
        d["id"]: (d.get("relatedParty") or [{}])[0].get("id", "") for d in docs if d["resourceStatus"] != "available"
    }


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == str(status) and body["message"], body


def test_a_delete_item_gives_back_only_what_the_orders_customer_holds(ops: Caller) -> None:
    chain = make_chain(ops, members=2)
    got = place(ops, "cust-a", add(chain))["orderItem"][0]["resource"]
    thief = place(ops, "cust-b", {"id": "1", "action": "delete", "resource": {"id": got["id"], "href": got["href"]}})
    assert thief["state"] == "failed" and "not held for customer cust-b" in str(thief["note"])
    assert held_by(ops, chain) == {got["id"]: "cust-a"}
    assert (
        place(ops, "cust-a", {"id": "1", "action": "delete", "resource": {"id": got["id"], "href": got["href"]}})[
            "state"
        ]
        == "completed"
    )
    assert held_by(ops, chain) == {}


def test_a_held_member_is_never_taken_again_whatever_its_document_says(ops: Caller) -> None:
    chain = make_chain(ops, members=1)
    [only] = chain.members
    assert place(ops, "cust-a", add(chain))["state"] == "completed"
    # an operator's (audited) correction marks it free while cust-a's reservation still holds it
    why = {"X-Override-Reason": "inventory audit"}
    flipped = ops.patch(f"{RI}/resource/{only['id']}", json={"resourceStatus": "available"}, headers=why)
    assert flipped.status_code == 200, flipped.text
    # the store's holding refuses a second holder: by id, from the pool, and through TMF685
    assert place(ops, "cust-b", add(chain, only))["state"] == "failed"
    assert place(ops, "cust-b", add(chain))["state"] == "failed"
    refused(ops.post(RESERVATIONS, json=reservation(chain, 1, "cust-b")), 422, "POOL_EXHAUSTED")
    assert ops.get(f"{RI}/resource/{only['id']}").json()["relatedParty"][0]["id"] == "cust-a"


def test_reservations_are_capped_per_request(ops: Caller) -> None:
    chain = make_chain(ops, members=7)
    for amount in (6, 1_000_000, 10**4000):
        start = time.perf_counter()
        r = ops.post(RESERVATIONS, json=reservation(chain, amount, "cust-a"))
        refused(r, 400 if amount == 10**4000 else 422, "INVALID_VALUE" if amount == 10**4000 else "RESERVATION_LIMIT")
        assert time.perf_counter() - start < 1.0  # refused before any member is read
    two = {"resourceCapacity": {"capacityDemandAmount": "3", "resourcePool": {"id": chain.pool["id"]}}}
    body = {"relatedParty": customer("cust-a"), "reservationItem": [two, two]}  # 6 over two items
    refused(ops.post(RESERVATIONS, json=body), 422, "RESERVATION_LIMIT")
    assert held_by(ops, chain) == {}
    assert ops.post(RESERVATIONS, json=reservation(chain, 5, "cust-a")).status_code == 201


def test_a_customer_holds_at_most_the_limit(ops: Caller) -> None:
    chain = make_chain(ops, members=12)
    assert place(ops, "cust-a", add(chain))["state"] == "completed"  # order-taken members count too
    for _ in range(2):
        assert ops.post(RESERVATIONS, json=reservation(chain, 3, "cust-a")).status_code == 201
    refused(ops.post(RESERVATIONS, json=reservation(chain, 2, "cust-a")), 422, "RESERVATION_LIMIT")
    assert ops.post(RESERVATIONS, json=reservation(chain, 1, "cust-a")).status_code == 201  # 8: the limit
    assert ops.post(RESERVATIONS, json=reservation(chain, 3, uid("cust"))).status_code == 201
    assert sorted(held_by(ops, chain).values()).count("cust-a") == 8

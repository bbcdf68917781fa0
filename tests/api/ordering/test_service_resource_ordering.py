"""TMF641 service orders and TMF652 resource orders through HTTP, over a catalog, pool and
inventory built by each test through the APIs themselves (``tests.support.sro.make_chain``).

Two apps per module: ``fast`` (the activation simulator answers at once) and ``slow`` (every
activation takes ``SLOW`` seconds), which is how a service order is caught inProgress.
Every response is checked against the official TMF641 v4.1.0 / TMF652 v4.0.0 / TMF638 /
TMF639 / TMF685 files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid, definitions
from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.support.sro import (
    AC,
    ORDER_TERMINAL,
    PM,
    RI,
    RO,
    SI,
    SO,
    Chain,
    Doc,
    app,
    free,
    get,
    local,
    make_chain,
    pool,
    resource_spec,
    taken,
    uid,
)
from tmfstack.apis.ordering import states

SLOW = 1.0  #: seconds every activation takes in the ``slow`` app
ORDERS = f"{SO}/serviceOrder"
CANCELS = f"{SO}/cancelServiceOrder"
RORDERS = f"{RO}/resourceOrder"
RCANCELS = f"{RO}/cancelResourceOrder"
CLIENT_MOVES = {("inProgress", "held"), ("held", "inProgress"), ("inProgress", "pending"), ("pending", "inProgress")}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app(tmp_path_factory.mktemp("sro_fast")) as client:
        yield client


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    sim = json.dumps({"default": {"latency": SLOW}})
    with app(tmp_path_factory.mktemp("sro_slow"), simulator=sim) as client:
        yield client


# -- TMF641 helpers ---------------------------------------------------------------------------


def customer(cust: str | None = None) -> Doc:
    return {"id": cust or uid("cust"), "role": "customer", "@type": "RelatedParty", "@referredType": "Individual"}


def service_order(spec_id: str, cust: Doc | None = None, **extra: Any) -> Doc:
    item = {"id": "1", "action": "add", "service": {"serviceSpecification": {"id": spec_id}}}
    return {"relatedParty": [cust or customer()], "serviceOrderItem": [item], **extra}


def post_so(client: TestClient, body: Doc) -> Doc:
    r = client.post(ORDERS, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_valid("641", "ServiceOrder", doc)
    assert r.headers["location"] == doc["href"]
    assert doc["state"] == "acknowledged", doc
    assert [i["state"] for i in doc["serviceOrderItem"]] == ["acknowledged"] * len(doc["serviceOrderItem"])
    assert doc["orderDate"]
    return doc


def get_so(client: TestClient, order_id: str) -> Doc:
    doc = get(client, f"{ORDERS}/{order_id}")
    assert_valid("641", "ServiceOrder", doc)
    return doc


def wait_so(client: TestClient, order_id: str, wanted: frozenset[str] | set[str] | str, timeout: float = 10) -> Doc:
    wanted = {wanted} if isinstance(wanted, str) else set(wanted)
    return wait_until(lambda: get_so(client, order_id), lambda d: d["state"] in wanted, timeout, f"order in {wanted}")


def placed(client: TestClient, chain: Chain, cust: Doc | None = None) -> Doc:
    """A service order for the chain's CFS, once it ended."""
    return wait_so(client, post_so(client, service_order(chain.cfs["id"], cust))["id"], ORDER_TERMINAL)


def in_progress(client: TestClient, chain: Chain) -> Doc:
    """A service order inProgress (the ``slow`` app: its activation takes SLOW seconds)."""
    doc = post_so(client, service_order(chain.cfs["id"]))
    doc = wait_so(client, doc["id"], {"inProgress", *ORDER_TERMINAL})
    assert doc["state"] == "inProgress", doc
    return doc


def patch_so(client: TestClient, order_id: str, body: Any) -> Any:
    return client.patch(f"{ORDERS}/{order_id}", json=body)


def moved(client: TestClient, order_id: str, state: str) -> Doc:
    r = patch_so(client, order_id, {"state": state})
    assert r.status_code == 200, r.text
    assert_valid("641", "ServiceOrder", r.json())
    assert r.json()["state"] == state
    return r.json()


def notes(doc: Doc) -> list[str]:
    return [n.get("text", "") for n in doc.get("note") or []]


def services_of(client: TestClient, party_id: str) -> list[Doc]:
    docs = get(client, f"{SI}/service?relatedParty.id={party_id}")
    assert_valid("638", "Service", docs)
    return docs


def post_cancel(client: TestClient, order: Doc) -> Doc:
    r = client.post(
        CANCELS, json={"serviceOrder": {"id": order["id"], "href": order["href"]}, "cancellationReason": "test"}
    )
    assert r.status_code == 201, r.text
    assert_valid("641", "CancelServiceOrder", r.json())
    return r.json()


def wait_cancel(client: TestClient, url: str, cancel_id: str, api: str, entity: str) -> Doc:
    def read() -> Doc:
        doc = get(client, f"{url}/{cancel_id}")
        assert_valid(api, entity, doc)
        return doc

    return wait_until(read, lambda d: d["state"] in ("done", "terminatedWithError"), 10, "cancellation ended")


# -- TMF641: accepted, then decided -------------------------------------------------------------


def test_service_order_add_completes_services_active_resources_taken(fast: TestClient) -> None:
    chain = make_chain(fast, members=3)
    cust = customer()
    doc = post_so(fast, service_order(chain.cfs["id"], cust))
    done = wait_so(fast, doc["id"], ORDER_TERMINAL)
    assert done["state"] == "completed", notes(done)
    assert [i["state"] for i in done["serviceOrderItem"]] == ["completed"]
    assert done.get("completionDate") and done.get("startDate")
    assert not done.get("errorMessage")

    cfs_ref = done["serviceOrderItem"][0]["service"]
    cfs = get(fast, local(cfs_ref["href"]))
    assert_valid("638", "Service", cfs)
    assert cfs["id"] == cfs_ref["id"]
    assert cfs["state"] == "active" and cfs["isServiceEnabled"] is True and cfs["hasStarted"] is True
    assert cfs["serviceSpecification"]["id"] == chain.cfs["id"]
    assert [p["id"] for p in cfs["relatedParty"]] == [cust["id"]]
    assert len(cfs["supportingService"]) == 1
    rfs = get(fast, f"{SI}/service/{cfs['supportingService'][0]['id']}")
    assert_valid("638", "Service", rfs)
    assert rfs["state"] == "active" and rfs["serviceSpecification"]["id"] == chain.rfs["id"]
    assert len(rfs["supportingResource"]) == 1
    assert {s["id"] for s in services_of(fast, cust["id"])} == {cfs["id"], rfs["id"]}

    held = rfs["supportingResource"][0]["id"]
    assert held in chain.member_ids
    assert taken(fast, chain.resource_spec["id"]) == {held}
    resource = get(fast, f"{RI}/resource/{held}")
    assert_valid("639", "Resource", resource)
    assert resource["resourceStatus"] == "reserved"
    assert [p["id"] for p in resource["relatedParty"]] == [cust["id"]]

    # the resources came through a TMF652 order, recorded as a TMF685 reservation
    orders = get(fast, f"{RORDERS}?relatedParty.id={cust['id']}")
    assert_valid("652", "ResourceOrder", orders)
    assert [(o["state"], o["orderItem"][0]["resource"]["id"]) for o in orders] == [("completed", held)]
    activation = get(fast, f"{AC}/service/{rfs['id']}")
    assert_valid("640", "Service", activation)
    assert activation["state"] == "active" and activation["hasStarted"] is True


def test_service_order_for_an_unknown_specification_is_rejected(fast: TestClient) -> None:
    cust = customer()
    doc = post_so(fast, service_order("no-such-spec", cust))
    done = wait_so(fast, doc["id"], ORDER_TERMINAL)
    assert done["state"] == "rejected"
    assert [i["state"] for i in done["serviceOrderItem"]] == ["rejected"]
    errors = done["errorMessage"]
    assert len(errors) == 1
    assert errors[0]["code"] == "UNKNOWN_SPECIFICATION" and "no-such-spec" in errors[0]["message"]
    assert errors[0]["serviceOrderItem"][0]["itemId"] == "1"
    assert services_of(fast, cust["id"]) == []


def test_one_bad_item_rejects_the_whole_order(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    body = service_order(chain.cfs["id"])
    body["serviceOrderItem"].append({"id": "2", "action": "add", "service": {"serviceSpecification": {"id": "nope"}}})
    done = wait_so(fast, post_so(fast, body)["id"], ORDER_TERMINAL)
    assert done["state"] == "rejected"
    assert [i["state"] for i in done["serviceOrderItem"]] == ["rejected", "rejected"]
    assert [e["serviceOrderItem"][0]["itemId"] for e in done["errorMessage"]] == ["2"]
    assert taken(fast, chain.resource_spec["id"]) == set()


REFUSED_ON_CREATE = {
    "item-state": (lambda b: b["serviceOrderItem"][0].update(state="completed"), "READ_ONLY_ATTRIBUTE"),
    "item-state-initial": (lambda b: b["serviceOrderItem"][0].update(state="acknowledged"), "READ_ONLY_ATTRIBUTE"),
    "order-state": (lambda b: b.update(state="completed"), "READ_ONLY_ATTRIBUTE"),
    "completionDate": (lambda b: b.update(completionDate="2030-01-01T00:00:00Z"), "READ_ONLY_ATTRIBUTE"),
    "no-items": (lambda b: b.update(serviceOrderItem=[]), "SCHEMA_VIOLATION"),
    "item-without-id": (lambda b: b["serviceOrderItem"][0].pop("id"), "SCHEMA_VIOLATION"),
    "unknown-action": (lambda b: b["serviceOrderItem"][0].update(action="explode"), "SCHEMA_VIOLATION"),
    "duplicate-item-ids": (lambda b: b["serviceOrderItem"].append(dict(b["serviceOrderItem"][0])), None),
}


@pytest.mark.parametrize("case", sorted(REFUSED_ON_CREATE))
def test_a_client_cannot_send_what_the_server_sets(fast: TestClient, case: str) -> None:
    mutate, code = REFUSED_ON_CREATE[case]
    cust = customer()
    body = service_order("whatever", cust)
    mutate(body)
    assert_error(fast.post(ORDERS, json=body), 400, code, spec="641")
    assert get(fast, f"{ORDERS}?relatedParty.id={cust['id']}") == []


def test_patch_of_items_or_server_attributes_is_refused(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    doc = placed(fast, chain)
    items = json.loads(json.dumps(doc["serviceOrderItem"]))
    items[0]["state"] = "failed"
    for body in (
        {"serviceOrderItem": items},
        {"serviceOrderItem": [*doc["serviceOrderItem"], {"id": "2", "action": "add", "service": {}}]},
        {"relatedParty": [customer()]},
        {"requestedStartDate": "2030-01-01T00:00:00Z"},
    ):
        error = assert_error(patch_so(fast, doc["id"], body), 400, "READ_ONLY_ATTRIBUTE", spec="641")
        assert next(iter(body)) in error["message"], error
    for body in ({"completionDate": "2030-01-01T00:00:00Z"}, {"errorMessage": []}):
        assert_error(patch_so(fast, doc["id"], body), 400, "READ_ONLY_ATTRIBUTE", spec="641")
    assert get_so(fast, doc["id"]) == doc


def test_notes_can_be_added_to_a_completed_order_but_not_erased(fast: TestClient) -> None:
    doc = placed(fast, make_chain(fast, members=1))
    assert doc["state"] == "completed"
    mine = {"author": "ops", "text": "checked with the customer", "@type": "Note"}
    r = patch_so(fast, doc["id"], {"note": [*doc["note"], mine]})
    assert r.status_code == 200, r.text
    assert r.json()["note"][-1]["text"] == mine["text"] and r.json()["state"] == "completed"
    assert_error(patch_so(fast, doc["id"], {"note": [mine]}), 409, "NOTES_APPEND_ONLY", spec="641")
    assert_error(patch_so(fast, doc["id"], {"description": "late"}), 409, "ORDER_CLOSED", spec="641")


def test_delete_of_a_completed_order(fast: TestClient) -> None:
    doc = placed(fast, make_chain(fast, members=1))
    assert doc["state"] == "completed"
    r = fast.delete(f"{ORDERS}/{doc['id']}")
    assert r.status_code == 204, r.text
    assert_error(fast.get(f"{ORDERS}/{doc['id']}"), 404, spec="641")
    assert_error(fast.delete(f"{ORDERS}/{doc['id']}"), 404, spec="641")


def test_cancel_of_a_completed_service_order_is_refused(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    doc = placed(fast, chain)
    assert doc["state"] == "completed"
    held = taken(fast, chain.resource_spec["id"])
    cancel = post_cancel(fast, doc)
    assert cancel["state"] == "accepted"
    ended = wait_cancel(fast, CANCELS, cancel["id"], "641", "CancelServiceOrder")
    assert ended["state"] == "terminatedWithError"
    assert "completed" in ended.get("completionMessage", ""), ended
    assert get_so(fast, doc["id"])["state"] == "completed"
    assert taken(fast, chain.resource_spec["id"]) == held


def test_cancel_of_an_unknown_service_order_is_refused(fast: TestClient) -> None:
    cancel = post_cancel(fast, {"id": "no-such-order", "href": "http://testserver/x"})
    assert wait_cancel(fast, CANCELS, cancel["id"], "641", "CancelServiceOrder")["state"] == "terminatedWithError"


def test_service_order_fails_when_the_pool_is_exhausted(fast: TestClient) -> None:
    chain = make_chain(fast, members=0)
    cust = customer()
    done = placed(fast, chain, cust)
    assert done["state"] == "failed", notes(done)
    assert done["serviceOrderItem"][0]["state"] == "failed"
    assert done["errorMessage"][0]["code"] == "ITEM_FAILED"
    assert "resource order" in done["errorMessage"][0]["message"]
    assert services_of(fast, cust["id"]) == []  # refused before anything was designed


def change_order(cust: Doc, action: str, service: Doc, **attrs: Any) -> Doc:
    item = {"id": "1", "action": action, "service": {"id": service["id"], "href": service["href"], **attrs}}
    return {"relatedParty": [cust], "serviceOrderItem": [item]}


def test_modify_then_delete_of_a_delivered_service(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    cust = customer()
    cfs = placed(fast, chain, cust)["serviceOrderItem"][0]["service"]
    held = taken(fast, chain.resource_spec["id"])
    assert len(held) == 1

    done = wait_so(fast, post_so(fast, change_order(cust, "modify", cfs, state="inactive"))["id"], ORDER_TERMINAL)
    assert done["state"] == "completed", notes(done)
    assert {(s["state"], s["isServiceEnabled"]) for s in services_of(fast, cust["id"])} == {("inactive", False)}
    assert taken(fast, chain.resource_spec["id"]) == held  # suspended, not given back

    done = wait_so(fast, post_so(fast, change_order(cust, "delete", cfs))["id"], ORDER_TERMINAL)
    assert done["state"] == "completed", notes(done)
    services = services_of(fast, cust["id"])
    assert {s["state"] for s in services} == {"terminated"} and all(s.get("endDate") for s in services)
    assert taken(fast, chain.resource_spec["id"]) == set()

    # a terminated service cannot be changed again, an unknown one not at all
    for body in (change_order(cust, "delete", cfs), change_order(cust, "modify", {"id": "nope", "href": "x"})):
        done = wait_so(fast, post_so(fast, body)["id"], ORDER_TERMINAL)
        assert done["state"] == "rejected"
        assert done["errorMessage"][0]["code"] in ("SERVICE_TERMINATED", "UNKNOWN_SERVICE")


def test_no_reservation_claims_resources_that_were_given_back(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    cust = customer()
    cfs = placed(fast, chain, cust)["serviceOrderItem"][0]["service"]
    assert wait_so(fast, post_so(fast, change_order(cust, "delete", cfs))["id"], ORDER_TERMINAL)["state"] == "completed"
    assert taken(fast, chain.resource_spec["id"]) == set()
    claimed = {
        r["id"]
        for doc in get(fast, f"{PM}/reservation?relatedParty.id={cust['id']}")
        if doc["reservationState"] != "released"
        for item in doc["reservationItem"]
        for r in item["appliedCapacityAmount"]["resource"]
    }
    assert claimed == set(), f"reservations still claim the free resources {claimed}"


# -- TMF641 while in progress (the slow app) ------------------------------------------------------


def test_patch_state_to_completed_is_refused(slow: TestClient) -> None:
    doc = in_progress(slow, make_chain(slow, members=1))
    for target in ("completed", "failed", "cancelled", "acknowledged"):
        error = assert_error(patch_so(slow, doc["id"], {"state": target}), 409, "INVALID_TRANSITION", spec="641")
        assert target in error["message"] and "inProgress" in error["message"]
    assert_error(patch_so(slow, doc["id"], {"state": "bogus"}), 400, spec="641")
    items = json.loads(json.dumps(get_so(slow, doc["id"])["serviceOrderItem"]))
    items[0]["state"] = "completed"
    assert_error(patch_so(slow, doc["id"], {"serviceOrderItem": items}), 400, "READ_ONLY_ATTRIBUTE", spec="641")
    after = get_so(slow, doc["id"])
    assert after["state"] == "inProgress" and after["serviceOrderItem"][0]["state"] == "inProgress"


def test_hold_and_release_while_in_progress(slow: TestClient) -> None:
    chain = make_chain(slow, members=1)
    doc = in_progress(slow, chain)
    moved(slow, doc["id"], "held")
    moved(slow, doc["id"], "inProgress")
    moved(slow, doc["id"], "pending")
    moved(slow, doc["id"], "inProgress")
    held = moved(slow, doc["id"], "held")
    assert held["serviceOrderItem"][0]["state"] == "inProgress"
    # the activation ends while the order is held: the order manager leaves it alone
    rfs_id = next(iter(taken_by_services(slow, chain)))
    wait_until(lambda: get(slow, f"{AC}/service/{rfs_id}"), lambda d: d.get("hasStarted") is True, 5, "activation done")
    time.sleep(0.2)
    assert get_so(slow, doc["id"])["state"] == "held"
    moved(slow, doc["id"], "inProgress")  # released: taken up at once
    done = wait_so(slow, doc["id"], ORDER_TERMINAL, timeout=5)
    assert done["state"] == "completed", notes(done)
    assert [i["state"] for i in done["serviceOrderItem"]] == ["completed"]


def taken_by_services(client: TestClient, chain: Chain) -> set[str]:
    """Ids of the RFS (in TMF638) that hold members of the chain's pool."""
    found = set()
    for resource_id in taken(client, chain.resource_spec["id"]):
        resource = get(client, f"{RI}/resource/{resource_id}")
        rels = resource.get("resourceRelationship") or []
        found |= {r["id"] for r in rels if r["relationshipType"] == "supportsService"}
    return found


def test_delete_of_an_open_order_is_refused(slow: TestClient) -> None:
    doc = in_progress(slow, make_chain(slow, members=1))
    for state in ("inProgress", "held", "pending"):
        if state != "inProgress":
            moved(slow, doc["id"], state)
        error = assert_error(slow.delete(f"{ORDERS}/{doc['id']}"), 409, "ORDER_OPEN", spec="641")
        assert state in error["message"]
        assert get_so(slow, doc["id"])["state"] == state
        if state != "inProgress":
            moved(slow, doc["id"], "inProgress")


def test_cancel_while_in_progress_gives_everything_back(slow: TestClient) -> None:
    chain = make_chain(slow, members=2)
    cust = customer()
    doc = post_so(slow, service_order(chain.cfs["id"], cust))
    # wait until the resources are taken (the activation then takes SLOW seconds)
    wait_until(lambda: taken(slow, chain.resource_spec["id"]), bool, 5, "a resource taken")
    assert get_so(slow, doc["id"])["state"] == "inProgress"
    cancel = post_cancel(slow, doc)
    ended = wait_cancel(slow, CANCELS, cancel["id"], "641", "CancelServiceOrder")
    assert ended["state"] == "done", ended
    assert ended.get("effectiveCancellationDate")
    order = get_so(slow, doc["id"])
    assert order["state"] == "cancelled", notes(order)
    assert [i["state"] for i in order["serviceOrderItem"]] == ["cancelled"]
    assert order.get("cancellationDate")
    wait_until(lambda: taken(slow, chain.resource_spec["id"]), lambda t: t == set(), 5, "resources given back")
    assert free(slow, chain.resource_spec["id"]) == chain.member_ids
    assert {s["state"] for s in services_of(slow, cust["id"])} == {"terminated"}
    # the activation that was running ends later: the order stays cancelled
    rfs = next(s for s in services_of(slow, cust["id"]) if s["category"] == "ResourceFacingService")
    r = slow.get(f"{AC}/monitor", params={"sourceHref": f"http://testserver{AC}/service/{rfs['id']}"})
    first = min(r.json(), key=lambda m: m["id"])  # the activation requested before the cancellation
    wait_until(lambda: get(slow, local(first["href"])), lambda m: m["state"] != "inProgress", 5, "activation ended")
    time.sleep(0.1)
    assert get_so(slow, doc["id"])["state"] == "cancelled"
    assert taken(slow, chain.resource_spec["id"]) == set()


# -- the service order client moves, table-driven ------------------------------------------------


def test_client_moves_are_the_product_order_ones() -> None:
    assert set(states.CLIENT_MOVES) == CLIENT_MOVES
    for old, new in CLIENT_MOVES:
        states.ORDER.check(old, new)


def _order_in(slow: TestClient, fast: TestClient, state: str) -> tuple[TestClient, Doc]:
    if state in ("inProgress", "held", "pending"):
        doc = in_progress(slow, make_chain(slow, members=1))
        if state != "inProgress":
            doc = moved(slow, doc["id"], state)
        return slow, doc
    if state == "cancelled":
        doc = in_progress(slow, make_chain(slow, members=1))
        assert wait_cancel(slow, CANCELS, post_cancel(slow, doc)["id"], "641", "CancelServiceOrder")["state"] == "done"
        return slow, get_so(slow, doc["id"])
    spec = make_chain(fast, members=1).cfs["id"] if state == "completed" else "no-such-spec"
    return fast, wait_so(fast, post_so(fast, service_order(spec))["id"], ORDER_TERMINAL)


START_STATES = ["inProgress", "held", "pending", "completed", "rejected", "cancelled"]


@pytest.mark.parametrize("start", START_STATES)
def test_service_order_client_move_table(slow: TestClient, fast: TestClient, start: str) -> None:
    client, doc = _order_in(slow, fast, start)
    assert doc["state"] == start
    targets = sorted(states.ORDER.states - {start})
    assert set(targets) | {start} == set(definitions("641")["ServiceOrderStateType"]["enum"])
    for target in targets:  # refused moves first: they leave the order where it is
        if (start, target) in CLIENT_MOVES:
            continue
        r = patch_so(client, doc["id"], {"state": target})
        body = assert_error(r, 409, spec="641")
        expected = "ORDER_CLOSED" if start in ORDER_TERMINAL else "INVALID_TRANSITION"
        assert body["code"] == expected, (start, target, body)
        assert get_so(client, doc["id"])["state"] == start
    # the same state is not a move
    r = patch_so(client, doc["id"], {"state": start})
    assert r.status_code == 200, r.text
    for old, new in sorted(CLIENT_MOVES):
        if old == start:  # every client move has its way back
            moved(client, doc["id"], new)
            moved(client, doc["id"], start)
    if start not in ORDER_TERMINAL:
        assert get_so(client, doc["id"])["state"] == start


# -- TMF652 ------------------------------------------------------------------------------------


def resource_order(*items: Doc, cust: Doc | None = None, **extra: Any) -> Doc:
    party = cust or customer()
    return {"relatedParty": [{k: v for k, v in party.items() if k != "@type"}], "orderItem": list(items), **extra}


def add_item(item_id: str, chain: Chain, resource: Doc | None = None) -> Doc:
    item: Doc = {"id": item_id, "action": "add", "quantity": 1, "resourceSpecification": chain.spec_ref}
    if resource is not None:
        item["resource"] = {"id": resource["id"], "href": resource["href"], "@referredType": "Resource"}
    return item


def delete_item(item_id: str, resource: Doc) -> Doc:
    return {"id": item_id, "action": "delete", "resource": {"id": resource["id"], "href": resource["href"]}}


def get_ro(client: TestClient, order_id: str) -> Doc:
    doc = get(client, f"{RORDERS}/{order_id}")
    assert_valid("652", "ResourceOrder", doc)
    return doc


def place_ro(client: TestClient, body: Doc) -> Doc:
    r = client.post(RORDERS, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_valid("652", "ResourceOrder", doc)
    assert r.headers["location"] == doc["href"]
    assert doc["state"] == "acknowledged" and {i["state"] for i in doc["orderItem"]} == {"acknowledged"}
    return wait_until(lambda: get_ro(client, doc["id"]), lambda d: d["state"] in ORDER_TERMINAL, 10, "order ended")


def test_resource_order_add_completes_with_a_resource(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    cust = customer()
    done = place_ro(fast, resource_order(add_item("1", chain), cust=cust))
    assert done["state"] == "completed", done
    item = done["orderItem"][0]
    assert item["state"] == "completed"
    got = item["resource"]
    assert got["id"] in chain.member_ids and got["href"].endswith(got["id"])
    assert taken(fast, chain.resource_spec["id"]) == {got["id"]}
    resource = get(fast, f"{RI}/resource/{got['id']}")
    assert_valid("639", "Resource", resource)
    assert resource["resourceStatus"] == "reserved" and resource["usageState"] == "active"
    assert [p["id"] for p in resource["relatedParty"]] == [cust["id"]]
    # recorded as a TMF685 reservation
    reservations = get(fast, f"{PM}/reservation?relatedParty.id={cust['id']}")
    assert_valid("685", "Reservation", reservations)
    assert len(reservations) == 1
    applied = reservations[0]["reservationItem"][0]["appliedCapacityAmount"]["resource"]
    assert [r["id"] for r in applied] == [got["id"]]


def test_resource_order_naming_a_taken_resource_fails(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    first = place_ro(fast, resource_order(add_item("1", chain)))
    holder = first["orderItem"][0]["resource"]
    assert first["state"] == "completed"
    done = place_ro(fast, resource_order(add_item("1", chain, resource=holder)))
    assert done["state"] == "failed"
    assert done["orderItem"][0]["state"] == "failed"
    assert done["orderItem"][0]["resource"]["id"] == holder["id"]  # what was asked for, not got
    assert any("already taken" in n for n in notes(done)), notes(done)
    assert taken(fast, chain.resource_spec["id"]) == {holder["id"]}
    resource = get(fast, f"{RI}/resource/{holder['id']}")
    held_by = [r["id"] for r in resource["resourceRelationship"] if r["relationshipType"] == "reservedBy"]
    reservation = get(fast, f"{PM}/reservation/{held_by[0]}")  # still the first order's reservation
    assert reservation["description"].endswith(first["id"]) and reservation["reservationState"] == "completed"


def test_resource_order_naming_a_free_resource_takes_that_one(fast: TestClient) -> None:
    chain = make_chain(fast, members=3)
    wanted = chain.members[2]
    done = place_ro(fast, resource_order(add_item("1", chain, resource=wanted)))
    assert done["state"] == "completed"
    assert done["orderItem"][0]["resource"]["id"] == wanted["id"]
    assert taken(fast, chain.resource_spec["id"]) == {wanted["id"]}


def test_resource_order_delete_item_gives_the_resource_back(fast: TestClient) -> None:
    chain = make_chain(fast, members=2)
    cust = (
        customer()
    )  # the delete is the same customer's: another one's is refused (tests/security/test_pool_holding.py)
    got = place_ro(fast, resource_order(add_item("1", chain), cust=cust))["orderItem"][0]["resource"]
    assert taken(fast, chain.resource_spec["id"]) == {got["id"]}
    done = place_ro(fast, resource_order(delete_item("1", got), cust=cust))
    assert done["state"] == "completed"
    assert done["orderItem"][0]["state"] == "completed"
    assert taken(fast, chain.resource_spec["id"]) == set()
    resource = get(fast, f"{RI}/resource/{got['id']}")
    assert_valid("639", "Resource", resource)
    assert resource["resourceStatus"] == "available" and resource["usageState"] == "idle"
    assert not resource.get("relatedParty") and not resource.get("resourceRelationship")


@pytest.mark.parametrize("impossible", ["exhausted", "taken", "other-pool-empty"])
def test_resource_order_is_all_or_nothing(fast: TestClient, impossible: str) -> None:
    chain = make_chain(fast, members=1 if impossible == "exhausted" else 3)
    if impossible == "exhausted":
        second = add_item("2", chain)  # the pool has one member for two items
    elif impossible == "taken":
        holder = place_ro(fast, resource_order(add_item("1", chain)))["orderItem"][0]["resource"]
        second = add_item("2", chain, resource=holder)
    else:
        empty = resource_spec(fast)
        pool(fast, empty, 0)
        second = {"id": "2", "action": "add", "resourceSpecification": {"id": empty["id"], "href": empty["href"]}}
    before = taken(fast, chain.resource_spec["id"])
    done = place_ro(fast, resource_order(add_item("1", chain), second))
    assert done["state"] == "failed", done
    assert [i["state"] for i in done["orderItem"]] == ["failed", "failed"]
    assert "resource" not in done["orderItem"][0]  # taken, then given back
    assert any("item 2 failed" in n for n in notes(done)), notes(done)
    assert taken(fast, chain.resource_spec["id"]) == before


def test_without_a_pool_the_resource_is_made_for_the_order(fast: TestClient) -> None:
    spec = resource_spec(fast)  # no pool holds it: e.g. an ONT shipped with the line
    ref = {"id": spec["id"], "href": spec["href"], "name": spec["name"]}
    done = place_ro(fast, resource_order({"id": "1", "action": "add", "resourceSpecification": ref}))
    assert done["state"] == "completed", notes(done)
    made = get(fast, local(done["orderItem"][0]["resource"]["href"]))
    assert_valid("639", "Resource", made)
    assert made["resourceSpecification"]["id"] == spec["id"] and made["resourceStatus"] == "reserved"


def brought_in(chain: Chain, name: str) -> Doc:
    """An add item for a resource the pool does not hold, named by its value (a ported-in number)."""
    return {**add_item("1", chain), "resource": {"id": "", "href": "", "name": name, "@referredType": "Resource"}}


def test_a_resource_named_by_value_is_brought_in_once(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    number = uid("+3361")
    done = place_ro(fast, resource_order(brought_in(chain, number)))
    assert done["state"] == "completed", notes(done)
    got = done["orderItem"][0]["resource"]
    assert got["name"] == number and got["id"] not in chain.member_ids
    again = place_ro(fast, resource_order(brought_in(chain, number)))
    assert again["state"] == "failed" and any("already taken" in n for n in notes(again)), notes(again)
    assert free(fast, chain.resource_spec["id"]) == chain.member_ids  # the pool's member untouched


def test_a_brought_in_resource_does_not_join_the_pool(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    number = uid("+3361")
    cust = customer()
    got = place_ro(fast, resource_order(brought_in(chain, number), cust=cust))["orderItem"][0]["resource"]
    assert place_ro(fast, resource_order(delete_item("1", got), cust=cust))["state"] == "completed"
    # the pool holds one resource: an order for two of them cannot be served
    done = place_ro(fast, resource_order(add_item("1", chain), add_item("2", chain)))
    served = {i.get("resource", {}).get("id") for i in done["orderItem"]}
    assert done["state"] == "failed", f"served {served} from a pool of one ({chain.members[0]['id']})"


def test_cancel_of_a_completed_resource_order_is_refused(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    done = place_ro(fast, resource_order(add_item("1", chain)))
    r = fast.post(RCANCELS, json={"resourceOrder": {"id": done["id"], "href": done["href"]}})
    assert r.status_code == 201, r.text
    assert_valid("652", "CancelResourceOrder", r.json())
    ended = wait_cancel(fast, RCANCELS, r.json()["id"], "652", "CancelResourceOrder")
    assert ended["state"] == "terminatedWithError"
    assert get_ro(fast, done["id"])["state"] == "completed"
    assert taken(fast, chain.resource_spec["id"]) == {done["orderItem"][0]["resource"]["id"]}


def test_resource_order_client_rules(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    body = resource_order({**add_item("1", chain), "state": "completed"})
    assert_error(fast.post(RORDERS, json=body), 400, "READ_ONLY_ATTRIBUTE", spec="652")
    assert_error(fast.post(RORDERS, json=resource_order()), 400, spec="652")
    done = place_ro(fast, resource_order(add_item("1", chain)))
    items = json.loads(json.dumps(done["orderItem"]))
    items[0]["state"] = "failed"
    assert_error(fast.patch(f"{RORDERS}/{done['id']}", json={"orderItem": items}), 400, "READ_ONLY_ATTRIBUTE", "652")
    assert_error(fast.patch(f"{RORDERS}/{done['id']}", json={"state": "cancelled"}), 409, spec="652")
    assert fast.delete(f"{RORDERS}/{done['id']}").status_code == 204


def test_a_stale_reservation_cannot_free_a_resource_someone_else_holds(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    only = chain.members[0]
    first = customer()
    place_ro(fast, resource_order(add_item("1", chain), cust=first))
    reservation = get(fast, f"{PM}/reservation?relatedParty.id={first['id']}")[0]
    # the first customer's resource is given back through TMF652, then another order takes it
    assert place_ro(fast, resource_order(delete_item("1", only), cust=first))["state"] == "completed"
    second = customer()
    again = place_ro(fast, resource_order(add_item("1", chain), cust=second))
    assert again["orderItem"][0]["resource"]["id"] == only["id"]
    # releasing the first (stale) reservation must not free the second customer's resource
    r = fast.patch(f"{PM}/reservation/{reservation['id']}", json={"reservationState": "released"})
    assert r.status_code in (200, 409), r.text
    resource = get(fast, f"{RI}/resource/{only['id']}")
    assert resource["resourceStatus"] == "reserved"
    assert [p["id"] for p in resource["relatedParty"]] == [second["id"]]


# -- TMF652 events -------------------------------------------------------------------------------


def test_resource_order_events_reach_a_listener(fast: TestClient) -> None:
    chain = make_chain(fast, members=1)
    with Listener() as listener:
        hub = fast.post(f"{RO}/hub", json={"callback": listener.url})
        assert hub.status_code == 201, hub.text
        try:
            done = place_ro(fast, resource_order(add_item("1", chain)))

            def mine(bodies: list[Any]) -> list[Doc]:
                return [b for b in bodies if (b.get("event") or {}).get("resourceOrder", {}).get("id") == done["id"]]

            def ended(bodies: list[Any]) -> bool:
                return any(
                    b["eventType"] == "ResourceOrderStateChangeEvent"
                    and b["event"]["resourceOrder"]["state"] == "completed"
                    for b in mine(bodies)
                )

            events = mine(listener.wait_until(ended))
        finally:
            fast.delete(f"{RO}/hub/{hub.json()['id']}")
    types = [e["eventType"] for e in events]
    assert types[0] == "ResourceOrderCreateEvent", types
    assert events[0]["event"]["resourceOrder"]["state"] == "acknowledged"
    changes = [
        e["event"]["resourceOrder"]["state"] for e in events if e["eventType"] == "ResourceOrderStateChangeEvent"
    ]
    assert changes == ["inProgress", "completed"], types
    for event in events:
        assert_valid("652", event["eventType"], event)
    assert len({e["eventId"] for e in events}) == len(events)

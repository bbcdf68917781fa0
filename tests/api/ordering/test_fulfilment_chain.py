"""The fulfilment chain through HTTP: product order → TMF641 service order → TMF638 services →
TMF652 resource orders on the TMF685 pools → TMF640 activation → TMF637 product.

Each test builds its own app over a fresh database, loads the three demo catalogs through
importJobs and stocks the demo pools through TMF685/TMF639 (``tests.support.chain.load_chain``),
then orders through TMF622 and reads every record back through its own API, validating each
body against the official Swagger file. Activation runs on the built-in simulator, or on the
HTTP adapter pointed at a real listener (``listener.Listener``) for held / callback cases.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import TMF641_SPEC, assert_event, assert_valid
from tests.support.chain import (
    RESERVATIONS,
    SERVICE_ORDERING,
    SERVICES,
    activation,
    assert_640,
    assert_685,
    cancel_service_orders,
    char,
    free_members,
    load_chain,
    monitor,
    monitors,
    pool_for,
    reservations,
    resource_doc,
    resource_orders,
    resources,
    service_doc,
    service_order,
    service_orders,
    services,
    wait_service_order,
)
from tests.support.listener import Listener
from tests.support.ordering import (
    ORDERS,
    add,
    change,
    chars,
    customer,
    get_order,
    get_product,
    mobile,
    notes,
    order,
    place,
    post_cancel,
    post_order,
    products_of_order,
    wait_cancel,
    wait_state,
)
from tests.support.polling import wait_until
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
MakeApp = Callable[..., TestClient]

GATEWAY = "ss-rfs-home-gateway"
FIBRE_RFS = {"ss-rfs-ftth-access", "ss-rfs-ip-access", GATEWAY}
#: the resource specifications each RFS of the demo holds
RFS_RESOURCES = {
    "ss-rfs-ftth-access": {"rs-olt-port", "rs-vlan"},
    "ss-rfs-ip-access": {"rs-ipv4-address"},
    GATEWAY: {"rs-cpe-router"},
    "ss-rfs-mobile-access": {"rs-msisdn", "rs-sim-card"},
    "ss-rfs-packet-data": set(),
}
POOL_NUMBER = "+436641234005"  #: member 5 of the demo MSISDN pool (pool_size >= 6)


@pytest.fixture
def make_app(settings: Settings) -> Iterator[MakeApp]:
    """``make_app(pool_size=20, **settings)``: the app over this test's database, chain loaded."""
    with contextlib.ExitStack() as stack:

        def make(pool_size: int = 20, **changes: Any) -> TestClient:
            client = stack.enter_context(TestClient(create_app(dataclasses.replace(settings, **changes))))
            load_chain(client, pool_size)
            return client

        yield make


def is_spec(spec_id: str) -> Callable[[Any], bool]:
    """A predicate on a POSTed TMF640 service: is it an activation of ``spec_id``?"""
    return lambda body: isinstance(body, dict) and (body.get("serviceSpecification") or {}).get("id") == spec_id


def only(docs: list[Doc]) -> Doc:
    assert len(docs) == 1, docs
    return docs[0]


def taken_by(client: TestClient, po_id: str) -> dict[str, str]:
    """resource id → resource specification id, for every resource the product order's resource
    orders took (completed add lines)."""
    found = {}
    for so in service_orders(client, po_id):
        for ro in resource_orders(client, so["id"]):
            for line in ro["orderItem"]:
                if line.get("action") == "add" and line.get("state") == "completed":
                    found[line["resource"]["id"]] = line["resourceSpecification"]["id"]
    return found


def is_free(client: TestClient, resource_id: str) -> bool:
    doc = resource_doc(client, resource_id)
    return (
        doc["resourceStatus"] == "available"
        and doc.get("usageState") == "idle"
        and not doc.get("relatedParty")
        and not doc.get("resourceRelationship")
    )


def wait_free(client: TestClient, resource_ids: Any, timeout: float = 10.0) -> None:
    """Wait until every resource is back in its pool (a compensating order may still run)."""
    ids = sorted(resource_ids)
    assert ids, "no resources to check"
    wait_until(lambda: all(is_free(client, r) for r in ids), timeout=timeout, what=f"resources {ids} free again")


def wait_terminated(client: TestClient, cust: str, count: int, timeout: float = 10.0) -> list[Doc]:
    def done() -> list[Doc] | None:
        docs = services(client, cust)
        return docs if len(docs) == count and all(s["state"] == "terminated" for s in docs) else None

    return wait_until(done, timeout=timeout, what=f"the {count} services of {cust} terminated")


def wait_nothing_live(client: TestClient, cust: str, timeout: float = 10.0) -> list[Doc]:
    """Wait until no service of the customer is live (each one written is terminated); returns them.
    (An add whose resources could not be had may write no service at all.)"""
    wait_until(
        lambda: all(s["state"] == "terminated" for s in services(client, cust)),
        timeout=timeout,
        what=f"no live service of {cust}",
    )
    return services(client, cust)


def assert_holds(client: TestClient, cust: str, rfs: Doc) -> list[Doc]:
    """Each supporting resource of an RFS is reserved for ``cust`` and points back at the RFS."""
    held = []
    for ref in rfs.get("supportingResource") or []:
        res = resource_doc(client, ref["id"])
        assert res["resourceStatus"] == "reserved", res
        assert res["usageState"] == "active", res
        assert [p["id"] for p in res["relatedParty"]] == [cust], res
        back = only([r for r in res["resourceRelationship"] if r["relationshipType"] == "supportsService"])
        assert back["id"] == rfs["id"], res
        held.append(res)
    specs = {r["resourceSpecification"]["id"] for r in held}
    assert specs == RFS_RESOURCES[rfs["serviceSpecification"]["id"]], (rfs["name"], specs)
    return held


def product_of(client: TestClient, po_id: str, offering: str | None = None) -> Doc:
    found = [p for p in products_of_order(client, po_id) if offering is None or p["productOffering"]["id"] == offering]
    return only(found)


def accepted_request(client: TestClient, request: Any) -> str:
    """Wait until the adapter recorded the endpoint's 202 on the request's monitor; its callback path.

    (Calling back before that races the adapter's own bookkeeping: see the xfail tests below.)"""
    monitor_id = request.headers["x-request-id"]

    def recorded() -> bool:
        doc = monitor(client, monitor_id)
        return doc["state"] == "inProgress" and (doc.get("response") or {}).get("statusCode") == "202"

    wait_until(recorded, what=f"monitor {monitor_id} accepted (202)")
    callback = request.headers["x-callback-url"]
    assert callback.startswith(f"http://testserver/activation/callback/{monitor_id}?sig="), callback
    return callback.removeprefix("http://testserver")


def patch_order(client: TestClient, po_id: str, **changes: Any) -> Doc:
    r = client.patch(f"{ORDERS}/{po_id}", json=changes)
    assert r.status_code == 200, r.text
    return r.json()


# -- decomposition ------------------------------------------------------------------------


def test_fibre_order_is_fulfilled_down_to_every_record(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000", chars(Installation_type="Self-installation")), customer=cust))
    assert po["state"] == "completed", notes(po)

    # TMF641: one service order for the item, one line per CFS, the Wi-Fi one after internet access
    so = only(service_orders(client, po["id"]))
    assert so["state"] == "completed", so
    assert so["externalReference"][0]["id"] == po["id"]
    assert so["externalReference"][0]["externalReferenceType"] == "ProductOrder"
    assert [p["id"] for p in so["relatedParty"]] == [cust]
    internet, wifi = so["serviceOrderItem"]
    assert (internet["service"]["name"], wifi["service"]["name"]) == ("Internet access", "Managed home Wi-Fi")
    assert {internet["action"], wifi["action"]} == {"add"}
    assert {internet["state"], wifi["state"]} == {"completed"}
    assert "serviceOrderItemRelationship" not in internet
    dep = only(wifi["serviceOrderItemRelationship"])
    assert dep["relationshipType"] == "dependency" and dep["orderItem"]["itemId"] == internet["id"]
    for line in (internet, wifi):
        entity = only(line["service"]["relatedEntity"])
        assert (entity["role"], entity["id"]) == ("productOrderItem", "1")
    assert char(internet["service"], "Download speed") == 1000  # the offering's fixed value

    # TMF638: the CFS active on their RFS, the RFS on their resources
    everything = services(client, cust)
    assert len(everything) == 5, [s["name"] for s in everything]
    assert all(s["state"] == "active" and s["isServiceEnabled"] for s in everything), everything
    cfs = {s["id"]: s for s in everything if s["category"] == "CustomerFacingService"}
    assert set(cfs) == {internet["service"]["id"], wifi["service"]["id"]}
    rfs = {s["serviceSpecification"]["id"]: s for s in everything if s["category"] == "ResourceFacingService"}
    assert set(rfs) == FIBRE_RFS
    assert {r["id"] for r in cfs[internet["service"]["id"]]["supportingService"]} == {
        rfs["ss-rfs-ftth-access"]["id"],
        rfs["ss-rfs-ip-access"]["id"],
    }
    assert [r["id"] for r in cfs[wifi["service"]["id"]]["supportingService"]] == [rfs[GATEWAY]["id"]]
    assert char(cfs[internet["service"]["id"]], "Installation type") == "Self-installation"

    # characteristics down the chain: mapsFrom renames Download speed to the line profile
    assert char(rfs["ss-rfs-ftth-access"], "Line profile downstream") == 1000
    assert char(rfs["ss-rfs-ftth-access"], "Line profile upstream") == 500
    assert char(rfs["ss-rfs-ip-access"], "Download speed") == 1000
    assert char(rfs[GATEWAY], "Wi-Fi standard") == "Wi-Fi 6 (802.11ax)"

    # TMF639: port, VLAN, IPv4 address and home gateway, reserved for the customer
    held = [res for r in rfs.values() for res in assert_holds(client, cust, r)]
    assert len(held) == 4
    assert {r["id"] for r in resources(client, cust)} == {r["id"] for r in held}

    # TMF652: one resource order per CFS line, completed, taking exactly those resources
    by_line = {}
    for ro in resource_orders(client, so["id"]):
        assert ro["state"] == "completed", ro
        assert all(line["state"] == "completed" for line in ro["orderItem"]), ro
        by_line[ro["description"].rsplit("/", 1)[-1]] = {line["resource"]["id"] for line in ro["orderItem"]}
    assert set(by_line) == {internet["id"], wifi["id"]}
    assert by_line[wifi["id"]] == {r["id"] for r in rfs[GATEWAY]["supportingResource"]}
    assert by_line[internet["id"]] | by_line[wifi["id"]] == {r["id"] for r in held}

    # TMF640: each RFS was activated, with its characteristics and resources
    for r in rfs.values():
        act = activation(client, r["id"])
        assert act["state"] == "active" and act["isServiceEnabled"] is True, act
        assert act["serviceCharacteristic"] == r["serviceCharacteristic"]
        assert {x["id"] for x in act["supportingResource"]} == {x["id"] for x in r["supportingResource"]}
        # a request the simulator answered at once may have no monitor; any there is completed
        assert {m["state"] for m in monitors(client, act["href"])} <= {"completed"}

    # TMF637: the product, realised by the two CFS
    product = product_of(client, po["id"])
    assert product["status"] == "active"
    assert {s["id"] for s in product["realizingService"]} == set(cfs)

    # TMF685: the resource orders' reservations list the same resources
    found = reservations(client, cust)
    assert len(found) == 2 and {r["reservationState"] for r in found} == {"completed"}
    reserved = {
        res["id"]
        for rsv in found
        for item in rsv["reservationItem"]
        for res in item["appliedCapacityAmount"]["resource"]
    }
    assert reserved == {r["id"] for r in held}


def test_mobile_line_takes_the_wanted_number_and_a_sim(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(mobile("1", number=POOL_NUMBER), customer=cust))
    assert po["state"] == "completed", notes(po)

    so = only(service_orders(client, po["id"]))
    voice, data = so["serviceOrderItem"]
    assert (voice["service"]["name"], data["service"]["name"]) == ("Mobile voice and SMS", "Mobile data 5G")
    assert only(data["serviceOrderItemRelationship"])["orderItem"]["itemId"] == voice["id"]

    rfs = {s["serviceSpecification"]["id"]: s for s in services(client, cust, category="ResourceFacingService")}
    assert set(rfs) == {"ss-rfs-mobile-access", "ss-rfs-packet-data"}
    assert char(rfs["ss-rfs-mobile-access"], "MSISDN") == POOL_NUMBER
    assert char(rfs["ss-rfs-packet-data"], "Quota") == "30 GB"  # mapsFrom "Data allowance"
    assert "supportingResource" not in rfs["ss-rfs-packet-data"] or not rfs["ss-rfs-packet-data"]["supportingResource"]

    held = {r["resourceSpecification"]["id"]: r for r in assert_holds(client, cust, rfs["ss-rfs-mobile-access"])}
    number = held["rs-msisdn"]
    assert number["name"] == POOL_NUMBER
    assert number["category"] == "Mobile numbers +43 664"  # the pool member, not a number brought in
    assert held["rs-sim-card"]["category"] == "SIM cards in stock"
    assert POOL_NUMBER not in {r["name"] for r in free_members(client, "rs-msisdn")}
    assert product_of(client, po["id"])["status"] == "active"


def test_a_number_taken_by_another_customer_fails_the_item_clearly(make_app: MakeApp) -> None:
    client = make_app()
    first, second = customer(), customer()
    assert place(client, order(mobile("1", number=POOL_NUMBER), customer=first))["state"] == "completed"
    free_sims = len(free_members(client, "rs-sim-card"))

    po = place(client, order(mobile("1", number=POOL_NUMBER), customer=second))
    assert po["state"] == "failed", notes(po)
    assert po["productOrderItem"][0]["state"] == "failed"
    assert f"{POOL_NUMBER} is already taken" in notes(po), notes(po)

    so = only(service_orders(client, po["id"]))
    assert so["state"] == "failed"
    assert any(POOL_NUMBER in e["message"] for e in so["errorMessage"]), so["errorMessage"]
    ro = only([r for r in resource_orders(client, so["id"]) if r["state"] == "failed"])
    assert {line["state"] for line in ro["orderItem"]} == {"failed"}

    assert resources(client, second) == []  # nothing taken for the second customer
    assert len(free_members(client, "rs-sim-card")) == free_sims
    wait_nothing_live(client, second)
    assert products_of_order(client, po["id"]) == []
    number = only(resources(client, first, name=POOL_NUMBER))
    assert number["resourceStatus"] == "reserved"  # still the first customer's


def test_a_number_outside_the_pool_is_brought_in(make_app: MakeApp) -> None:
    client = make_app()
    cust, other = customer(), customer()
    ported = "+436769876543"
    po = place(client, order(mobile("1", number=ported), customer=cust))
    assert po["state"] == "completed", notes(po)

    number = only(resources(client, cust, **{"resourceSpecification.id": "rs-msisdn"}))
    assert number["name"] == ported and number["category"] == "brought in"
    assert number["resourceStatus"] == "reserved"
    rfs = only(services(client, cust, **{"serviceSpecification.id": "ss-rfs-mobile-access"}))
    assert number["id"] in {r["id"] for r in rfs["supportingResource"]}
    assert ported not in {r["name"] for r in free_members(client, "rs-msisdn")}

    again = place(client, order(mobile("1", number=ported), customer=other))  # the same number, twice
    assert again["state"] == "failed" and "already taken" in notes(again), notes(again)

    # ported out again: not pool stock, so it rests in standby rather than being sold to anyone
    product = product_of(client, po["id"])
    assert place(client, order(change("1", product["id"], action="delete"), customer=cust))["state"] == "completed"
    number = wait_until(
        lambda: (doc := resource_doc(client, number["id"]))["resourceStatus"] == "standby" and doc,
        what="the ported number in standby",
    )
    assert not number.get("relatedParty") and number["usageState"] == "idle"
    assert ported not in {r["name"] for r in free_members(client, "rs-msisdn")}


def test_a_number_given_back_can_be_brought_in_again(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    ported = "+436769876543"
    po = place(client, order(mobile("1", number=ported), customer=cust))
    product = product_of(client, po["id"])
    assert place(client, order(change("1", product["id"], action="delete"), customer=cust))["state"] == "completed"
    wait_until(
        lambda: only(resources(client, name=ported))["resourceStatus"] == "standby",
        what="the ported number in standby",
    )

    back = place(client, order(mobile("1", number=ported), customer=cust))  # the customer ports it in again
    assert back["state"] == "completed", notes(back)
    assert only(resources(client, cust, name=ported))["resourceStatus"] == "reserved"


def test_the_same_number_ordered_at_once_goes_to_one_customer(make_app: MakeApp) -> None:
    client = make_app()
    custs = [customer() for _ in range(4)]
    barrier = threading.Barrier(len(custs))

    def submit(cust: str) -> str:
        body = order(mobile("1", number=POOL_NUMBER), customer=cust)
        barrier.wait()
        return post_order(client, body)["id"]

    with ThreadPoolExecutor(len(custs)) as pool:
        ids = list(pool.map(submit, custs))
    ends = [wait_state(client, i, timeout=15) for i in ids]
    assert sorted(e["state"] for e in ends) == ["completed", "failed", "failed", "failed"], [notes(e) for e in ends]
    winner = custs[[e["state"] for e in ends].index("completed")]
    holders = [c for c in custs if resources(client, c, name=POOL_NUMBER)]
    assert holders == [winner]


# -- modify and delete --------------------------------------------------------------------


def test_a_characteristic_change_reaches_cfs_rfs_and_the_network(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(mobile("1", number=POOL_NUMBER), customer=cust))
    product = product_of(client, po["id"])

    mod = place(client, order(change("1", product["id"], productCharacteristic=chars(eSIM=True)), customer=cust))
    assert mod["state"] == "completed", notes(mod)
    line = only(only(service_orders(client, mod["id"]))["serviceOrderItem"])  # data CFS unchanged: no line
    assert line["action"] == "modify" and line["state"] == "completed"
    voice = service_doc(client, line["service"]["id"])
    assert voice["name"] == "Mobile voice and SMS"
    assert char(line["service"], "eSIM") is True

    assert char(voice, "eSIM") is True
    rfs = only(services(client, cust, **{"serviceSpecification.id": "ss-rfs-mobile-access"}))
    assert char(rfs, "eSIM") is True and rfs["state"] == "active"
    act = activation(client, rfs["id"])
    assert char(act, "eSIM") is True
    asked = monitors(client, act["href"])  # the modify is a request to the network of its own
    assert asked and {m["state"] for m in asked} == {"completed"}
    assert {"name": "eSIM", "value": True} in [
        {k: c.get(k) for k in ("name", "value")}
        for m in asked
        for c in json.loads(m["request"]["body"])["serviceCharacteristic"]
    ]
    assert char(get_product(client, product["id"]), "eSIM", "productCharacteristic") is True
    assert len(resources(client, cust)) == 2  # a modify takes no new resources


def test_a_plan_change_maps_the_new_speed_down_to_the_line_profile(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    product = product_of(client, place(client, order(add("1", "po-fibre-1000"), customer=cust))["id"])
    held = {r["id"] for r in resources(client, cust)}

    item = change("1", product["id"], productCharacteristic=chars(Download_speed=500))
    item["productOffering"] = {"id": "po-fibre-500"}
    mod = place(client, order(item, customer=cust))
    assert mod["state"] == "completed", notes(mod)

    assert get_product(client, product["id"])["productOffering"]["id"] == "po-fibre-500"
    rfs = {s["serviceSpecification"]["id"]: s for s in services(client, cust, category="ResourceFacingService")}
    assert char(rfs["ss-rfs-ftth-access"], "Line profile downstream") == 500
    assert char(rfs["ss-rfs-ip-access"], "Download speed") == 500
    assert char(activation(client, rfs["ss-rfs-ftth-access"]["id"]), "Line profile downstream") == 500
    assert char(rfs[GATEWAY], "Wi-Fi standard") == "Wi-Fi 6 (802.11ax)"  # untouched
    assert {r["id"] for r in resources(client, cust)} == held


def test_a_plan_change_applies_the_new_offerings_fixed_values(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    product = product_of(client, place(client, order(add("1", "po-fibre-1000"), customer=cust))["id"])
    item = change("1", product["id"], productCharacteristic=chars(Download_speed=500))
    item["productOffering"] = {"id": "po-fibre-500"}
    assert place(client, order(item, customer=cust))["state"] == "completed"

    assert char(get_product(client, product["id"]), "Upload speed", "productCharacteristic") == 250
    ftth = only(services(client, cust, **{"serviceSpecification.id": "ss-rfs-ftth-access"}))
    assert char(ftth, "Line profile upstream") == 250


def test_suspend_and_resume_a_mobile_line(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    product = product_of(client, place(client, order(mobile("1"), customer=cust))["id"])
    held = {r["id"] for r in resources(client, cust)}

    suspend = place(client, order(change("1", product["id"], status="suspended"), customer=cust))
    assert suspend["state"] == "completed", notes(suspend)
    lines = only(service_orders(client, suspend["id"]))["serviceOrderItem"]
    assert {(line["action"], line["service"]["state"]) for line in lines} == {("modify", "inactive")}
    assert get_product(client, product["id"])["status"] == "suspended"
    docs = services(client, cust)
    assert len(docs) == 4 and all(s["state"] == "inactive" and not s["isServiceEnabled"] for s in docs), docs
    for rfs in (s for s in docs if s["category"] == "ResourceFacingService"):
        assert activation(client, rfs["id"])["state"] == "inactive"
    assert {r["id"] for r in resources(client, cust, resourceStatus="reserved")} == held  # kept while suspended

    resume = place(client, order(change("1", product["id"], status="active"), customer=cust))
    assert resume["state"] == "completed", notes(resume)
    assert get_product(client, product["id"])["status"] == "active"
    docs = services(client, cust)
    assert all(s["state"] == "active" and s["isServiceEnabled"] for s in docs), docs


def test_delete_terminates_the_services_and_frees_the_resources(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), mobile("2", number=POOL_NUMBER), customer=cust))
    assert po["state"] == "completed", notes(po)
    fibre, line = product_of(client, po["id"], "po-fibre-1000"), product_of(client, po["id"], "po-mobile-m")
    took = taken_by(client, po["id"])
    assert len(took) == 6

    gone = place(
        client,
        order(change("1", fibre["id"], action="delete"), change("2", line["id"], action="delete"), customer=cust),
    )
    assert gone["state"] == "completed", notes(gone)
    assert {get_product(client, p["id"])["status"] for p in (fibre, line)} == {"terminated"}

    sos = service_orders(client, gone["id"])
    assert len(sos) == 2 and {so["state"] for so in sos} == {"completed"}
    assert {line_["action"] for so in sos for line_ in so["serviceOrderItem"]} == {"delete"}
    for so in sos:
        releases = resource_orders(client, so["id"])
        assert releases and {r["state"] for r in releases} == {"completed"}
        assert {line_["action"] for r in releases for line_ in r["orderItem"]} == {"delete"}

    docs = wait_terminated(client, cust, 9)
    assert all(s.get("endDate") and s["isServiceEnabled"] is False for s in docs)
    for rfs in (s for s in docs if s["category"] == "ResourceFacingService"):
        assert activation(client, rfs["id"])["state"] == "terminated"
    wait_free(client, took)
    assert resources(client, cust) == []
    assert POOL_NUMBER in {r["name"] for r in free_members(client, "rs-msisdn")}  # can be sold again


def test_a_bundle_is_decomposed_per_child_and_deleted_as_a_whole(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    children = [add("1.1", "po-fibre-500"), mobile("1.2", "po-mobile-unlimited", number=POOL_NUMBER)]
    po = place(client, order(add("1", "po-home-mobile-bundle", productOrderItem=children), customer=cust))
    assert po["state"] == "completed", notes(po)

    so = only(service_orders(client, po["id"]))
    owners = {line["service"]["name"]: line["service"]["relatedEntity"][0]["id"] for line in so["serviceOrderItem"]}
    assert owners == {
        "Internet access": "1.1",
        "Managed home Wi-Fi": "1.1",
        "Mobile voice and SMS": "1.2",
        "Mobile data 5G": "1.2",
    }
    fibre, line = product_of(client, po["id"], "po-fibre-500"), product_of(client, po["id"], "po-mobile-unlimited")
    assert {s["name"] for s in fibre["realizingService"]} == {"Internet access", "Managed home Wi-Fi"}
    assert {s["name"] for s in line["realizingService"]} == {"Mobile voice and SMS", "Mobile data 5G"}
    took = taken_by(client, po["id"])
    assert len(took) == 6

    bundle = product_of(client, po["id"], "po-home-mobile-bundle")
    gone = place(client, order(change("1", bundle["id"], action="delete"), customer=cust))
    assert gone["state"] == "completed", notes(gone)
    wait_terminated(client, cust, 9)
    wait_free(client, took)


# -- activation failures --------------------------------------------------------------------


def test_a_failed_activation_fails_the_order_and_gives_everything_back(make_app: MakeApp) -> None:
    client = make_app(simulator=f'{{"seed": 1, "{GATEWAY}": {{"latency": 0, "failureRate": 1}}}}')
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust))
    assert po["state"] == "failed", notes(po)
    assert "activation of Home gateway provisioning (TR-069) failed" in notes(po), notes(po)
    assert "simulated network failure" in notes(po)

    fulfil = only([so for so in service_orders(client, po["id"]) if so["description"].startswith("Fulfils")])
    assert fulfil["state"] == "partial"  # internet access was delivered, the Wi-Fi was not
    assert [line["state"] for line in fulfil["serviceOrderItem"]] == ["completed", "failed"]
    assert "Home gateway" in only(fulfil["errorMessage"])["message"]

    # compensation: what was delivered is deleted by a second service order
    undo = wait_until(
        lambda: [so for so in service_orders(client, po["id"]) if so["id"] != fulfil["id"]],
        what="a compensating service order",
    )
    undo = wait_service_order(client, only(undo)["id"])
    assert undo["state"] == "completed"
    assert {line["action"] for line in undo["serviceOrderItem"]} == {"delete"}
    assert {line["service"]["id"] for line in undo["serviceOrderItem"]} == {
        fulfil["serviceOrderItem"][0]["service"]["id"]
    }

    took = taken_by(client, po["id"])
    assert set(took.values()) == {"rs-olt-port", "rs-vlan", "rs-ipv4-address", "rs-cpe-router"}
    wait_free(client, took)
    wait_terminated(client, cust, 5)
    gateway = only(services(client, cust, **{"serviceSpecification.id": GATEWAY}))
    assert "inError" in {m["state"] for m in monitors(client, activation(client, gateway["id"])["href"])}
    assert products_of_order(client, po["id"]) == []


def test_a_failed_activation_beside_a_good_item_makes_the_order_partial(make_app: MakeApp) -> None:
    client = make_app(simulator=f'{{"{GATEWAY}": {{"failureRate": 1}}}}')
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), mobile("2", number=POOL_NUMBER), customer=cust))
    assert po["state"] == "partial", notes(po)
    assert {i["id"]: i["state"] for i in po["productOrderItem"]} == {"1": "failed", "2": "completed"}
    assert product_of(client, po["id"])["productOffering"]["id"] == "po-mobile-m"

    fibre_so = only([so for so in service_orders(client, po["id"]) if "item 1 " in so["description"]])
    fibre_took = {
        line["resource"]["id"]
        for ro in resource_orders(client, fibre_so["id"])
        for line in ro["orderItem"]
        if line["action"] == "add"
    }
    wait_free(client, fibre_took)
    kept = {r["resourceSpecification"]["id"] for r in resources(client, cust)}
    assert kept == {"rs-msisdn", "rs-sim-card"}


def test_a_refused_activation_holds_the_order_until_an_operator_resumes_it(
    make_app: MakeApp, listener: Listener
) -> None:
    gateway = is_spec(GATEWAY)
    listener.respond(lambda path, headers, body: 422 if gateway(body) else 201)
    client = make_app(activation_url=listener.url, activation_failure="hold")
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust), states={"held", "completed", "failed"})
    assert po["state"] == "held", notes(po)
    assert po["productOrderItem"][0]["state"] == "held"

    so = only(service_orders(client, po["id"]))
    assert so["state"] == "held"
    error = only(so["errorMessage"])
    assert error["code"] == "ACTIVATION_FAILED" and "Home gateway provisioning" in error["message"], error
    assert [line["state"] for line in so["serviceOrderItem"]] == ["completed", "held"]
    assert len(resources(client, cust, resourceStatus="reserved")) == 4  # held, not given back

    # what the endpoint got: TMF640 services, each with a callback URL of its own monitor
    requests = listener.requests
    assert len(requests) == 3
    for request in requests:
        assert_640("Service", request.body)
        monitor_id = request.headers["x-request-id"]
        assert request.headers["x-callback-url"].startswith(f"http://testserver/activation/callback/{monitor_id}?sig=")

    # resumed while the endpoint still refuses: held again
    patch_order(client, po["id"], state="inProgress")
    listener.wait_requests(4)
    again = wait_state(client, po["id"], "held")
    assert "held → inProgress" in notes(again)
    assert wait_service_order(client, so["id"], "held")["state"] == "held"

    listener.respond(lambda path, headers, body: 201)
    patch_order(client, po["id"], state="inProgress")
    done = wait_state(client, po["id"])
    assert done["state"] == "completed", notes(done)
    assert service_order(client, so["id"])["state"] == "completed"
    assert len(listener.requests) == 5
    docs = services(client, cust)
    assert len(docs) == 5 and {s["state"] for s in docs} == {"active"}
    assert product_of(client, po["id"])["status"] == "active"


def test_an_endpoint_answering_500_is_retried_then_holds(make_app: MakeApp, listener: Listener) -> None:
    gateway = is_spec(GATEWAY)
    listener.respond(lambda path, headers, body: 500 if gateway(body) else 201)
    client = make_app(activation_url=listener.url, activation_failure="hold")
    po = place(client, order(add("1", "po-fibre-1000"), customer=customer()), states={"held", "completed", "failed"})
    assert po["state"] == "held", notes(po)
    tries = [r for r in listener.requests if gateway(r.body)]
    assert [r.status for r in tries] == [500] * 5  # 5 attempts, then inError
    assert len({r.headers["x-request-id"] for r in tries}) == 1  # one request, retried

    listener.respond(lambda path, headers, body: 201)
    patch_order(client, po["id"], state="inProgress")
    assert wait_state(client, po["id"])["state"] == "completed"


def test_an_accepted_activation_completes_on_its_callback(make_app: MakeApp, listener: Listener) -> None:
    listener.respond(lambda path, headers, body: 202)
    client = make_app(activation_url=listener.url)
    cust = customer()
    po = post_order(client, order(mobile("1"), customer=cust))

    for n, spec in enumerate(("ss-rfs-mobile-access", "ss-rfs-packet-data"), 1):  # data waits for voice
        request = listener.wait_requests(n)[n - 1]
        assert request.body["serviceSpecification"]["id"] == spec
        callback = accepted_request(client, request)
        assert get_order(client, po["id"])["state"] == "inProgress"
        r = client.post(callback, json={"state": "completed", "message": "provisioned"})
        assert r.status_code == 204, r.text
        assert client.post(callback, json={"state": "completed"}).status_code == 200  # a repeat changes nothing

    done = wait_state(client, po["id"])
    assert done["state"] == "completed", notes(done)
    assert len(listener.requests) == 2
    assert client.post("/activation/callback/no-such-monitor", json={"state": "completed"}).status_code == 404
    r = client.post(callback, content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_BODY", r.text
    assert {s["state"] for s in services(client, cust)} == {"active"}


def test_a_callback_reporting_an_error_fails_the_order(make_app: MakeApp, listener: Listener) -> None:
    listener.respond(lambda path, headers, body: 202)
    client = make_app(activation_url=listener.url)
    cust = customer()
    po = post_order(client, order(mobile("1", number=POOL_NUMBER), customer=cust))
    callback = accepted_request(client, listener.wait_requests(1)[0])
    r = client.post(callback, json={"state": "inError", "message": "HSS refused the IMSI"})
    assert r.status_code == 204, r.text

    failed = wait_state(client, po["id"])
    assert failed["state"] == "failed", notes(failed)
    assert "HSS refused the IMSI" in notes(failed)
    took = taken_by(client, po["id"])
    assert set(took.values()) == {"rs-msisdn", "rs-sim-card"}
    wait_free(client, took)
    wait_terminated(client, cust, 2)  # voice and its RFS; the data line never started


# -- cancellation ---------------------------------------------------------------------------


def test_cancelling_mid_flight_stops_the_service_order_and_gives_everything_back(make_app: MakeApp) -> None:
    client = make_app(simulator=f'{{"{GATEWAY}": {{"latency": 1}}}}')
    cust = customer()
    po = post_order(client, order(add("1", "po-fibre-1000"), customer=cust))

    def gateway_running() -> Doc | None:
        for so in service_orders(client, po["id"]):
            if [line["state"] for line in so["serviceOrderItem"]] == ["completed", "inProgress"]:
                return so
        return None

    so = wait_until(gateway_running, what="the home gateway activation running")
    assert get_order(client, po["id"])["state"] == "inProgress"
    took = taken_by(client, po["id"])
    assert len(took) == 4

    cancel = wait_cancel(client, post_cancel(client, po["id"])["id"])
    assert cancel["state"] == "done", cancel
    cancelled = wait_state(client, po["id"])
    assert cancelled["state"] == "cancelled", notes(cancelled)

    so = service_order(client, so["id"])
    assert so["state"] == "cancelled"
    assert {line["state"] for line in so["serviceOrderItem"]} == {"cancelled"}
    cso = only(cancel_service_orders(client, so["id"]))
    assert cso["state"] == "done" and po["id"] in cso["cancellationReason"]
    wait_terminated(client, cust, 5)
    wait_free(client, took)
    assert products_of_order(client, po["id"]) == []


def test_cancelling_a_held_order_gives_everything_back(make_app: MakeApp, listener: Listener) -> None:
    gateway = is_spec(GATEWAY)
    listener.respond(lambda path, headers, body: 422 if gateway(body) else 201)
    client = make_app(activation_url=listener.url, activation_failure="hold")
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust), states={"held", "completed", "failed"})
    assert po["state"] == "held", notes(po)
    took = taken_by(client, po["id"])

    assert wait_cancel(client, post_cancel(client, po["id"])["id"])["state"] == "done"
    assert wait_state(client, po["id"])["state"] == "cancelled"
    so = only(service_orders(client, po["id"]))
    assert so["state"] == "cancelled"
    assert only(cancel_service_orders(client, so["id"]))["state"] == "done"
    wait_terminated(client, cust, 5)
    wait_free(client, took)


# -- pools ----------------------------------------------------------------------------------


def test_an_exhausted_pool_fails_the_order_that_finds_it_empty(make_app: MakeApp) -> None:
    client = make_app(pool_size=2)
    port_pool = pool_for(client, "rs-olt-port")
    custs = [customer() for _ in range(3)]
    ends = [place(client, order(add("1", "po-fibre-1000"), customer=c)) for c in custs]
    assert [e["state"] for e in ends] == ["completed", "completed", "failed"], [notes(e) for e in ends]
    reason = notes(ends[2])
    assert "no free resource of specification rs-olt-port" in reason, reason
    assert f"pool {port_pool['id']}" in reason, reason

    assert resources(client, custs[2]) == []
    wait_nothing_live(client, custs[2])
    for spec in ("rs-olt-port", "rs-vlan", "rs-ipv4-address", "rs-cpe-router"):
        assert free_members(client, spec) == []  # the two completed orders hold them all

    # a line given back can be sold again
    gone = place(
        client, order(change("1", product_of(client, ends[0]["id"])["id"], action="delete"), customer=custs[0])
    )
    assert gone["state"] == "completed"
    wait_free(client, taken_by(client, ends[0]["id"]))
    assert place(client, order(add("1", "po-fibre-1000"), customer=custs[2]))["state"] == "completed"


def test_a_resource_order_takes_all_or_nothing(make_app: MakeApp) -> None:
    client = make_app(pool_size=2)
    vlan_pool = pool_for(client, "rs-vlan")
    # somebody else holds every VLAN id: the port the fibre order takes first must go back
    r = client.post(
        RESERVATIONS,
        json={
            "relatedParty": {"id": "cust-wholesale", "name": "Wholesale"},
            "reservationItem": [
                {
                    "quantity": 2,
                    "resourceCapacity": {"capacityDemandAmount": "2", "resourcePool": {"id": vlan_pool["id"]}},
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    blocker = r.json()
    assert_685("Reservation", blocker)
    assert free_members(client, "rs-vlan") == []

    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust))
    assert po["state"] == "failed", notes(po)
    assert f"no free resource of specification rs-vlan (pool {vlan_pool['id']})" in notes(po), notes(po)
    ro = only(resource_orders(client, only(service_orders(client, po["id"]))["id"]))
    assert ro["state"] == "failed"
    assert {line["state"] for line in ro["orderItem"]} == {"failed"}
    assert "1 resource(s) taken for it were given back" in ro["note"][-1]["text"], ro["note"]
    assert len(free_members(client, "rs-olt-port")) == 2
    assert resources(client, cust) == []

    r = client.patch(f"{RESERVATIONS}/{blocker['id']}", json={"reservationState": "released"})
    assert r.status_code == 200, r.text
    assert len(free_members(client, "rs-vlan")) == 2
    assert place(client, order(add("1", "po-fibre-1000"), customer=cust))["state"] == "completed"


def test_concurrent_orders_never_share_a_resource(make_app: MakeApp) -> None:
    client = make_app(pool_size=10)
    n = 10
    custs = [customer() for _ in range(n)]
    barrier = threading.Barrier(n)

    def submit(i: int) -> str:
        item = add("1", "po-fibre-1000") if i % 2 else mobile("1", number=f"+43664123400{i}")
        body = order(item, customer=custs[i])
        barrier.wait()
        return post_order(client, body)["id"]

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(submit, range(n)))
    ends = [wait_state(client, i, timeout=30) for i in ids]
    assert {e["state"] for e in ends} == {"completed"}, [notes(e) for e in ends if e["state"] != "completed"]

    owner: dict[str, str] = {}
    for cust in custs:
        for res in resources(client, cust):
            assert res["id"] not in owner, f"{res['name']} held by {owner.get(res['id'])} and {cust}"
            owner[res["id"]] = cust
    assert len(owner) == n // 2 * 4 + n // 2 * 2  # fibre: port, VLAN, IPv4, gateway; mobile: number, SIM

    taken: dict[str, str] = {}
    for po_id in ids:
        for res_id in taken_by(client, po_id):
            assert res_id not in taken, f"resource {res_id} taken by orders {taken[res_id]} and {po_id}"
            taken[res_id] = po_id
    assert set(taken) == set(owner)
    reserved = [
        res["id"]
        for cust in custs
        for rsv in reservations(client, cust)
        for item in rsv["reservationItem"]
        for res in item["appliedCapacityAmount"]["resource"]
    ]
    assert sorted(reserved) == sorted(owner)


def test_a_reservation_ends_when_its_resources_are_given_back(make_app: MakeApp) -> None:
    """The TMF685 record of what a resource order took is released with its resources (fixed in cb8c336)."""
    client = make_app()
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust))
    gone = place(client, order(change("1", product_of(client, po["id"])["id"], action="delete"), customer=cust))
    assert gone["state"] == "completed"
    wait_free(client, taken_by(client, po["id"]))
    assert {r["reservationState"] for r in reservations(client, cust)} == {"released"}


def test_releasing_a_stale_reservation_leaves_other_customers_resources_alone(make_app: MakeApp) -> None:
    """A reservation only gives back what it still holds (fixed in cb8c336: it freed the resources
    another customer's active services had been given since)."""
    client = make_app(pool_size=1)  # the second customer must get the very same resources
    first, second = customer(), customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=first))
    place(client, order(change("1", product_of(client, po["id"])["id"], action="delete"), customer=first))
    wait_free(client, taken_by(client, po["id"]))
    assert place(client, order(add("1", "po-fibre-1000"), customer=second))["state"] == "completed"
    theirs = {r["id"] for r in resources(client, second)}
    assert theirs == set(taken_by(client, po["id"]))

    for stale in reservations(client, first):
        client.patch(f"{RESERVATIONS}/{stale['id']}", json={"reservationState": "released"})
    still = resources(client, second)
    assert {r["id"] for r in still} == theirs
    assert {r["resourceStatus"] for r in still} == {"reserved"}


def test_releasing_a_reservation_in_use_leaves_the_services_resources_alone(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust))
    assert po["state"] == "completed", notes(po)
    in_use = {r["id"] for r in resources(client, cust)}

    for rsv in reservations(client, cust):
        r = client.patch(f"{RESERVATIONS}/{rsv['id']}", json={"reservationState": "released"})
        assert r.status_code == 409 and r.json()["code"] == "RESOURCES_IN_SERVICE", r.text
        assert "still serve a service" in r.json()["message"]
    assert {s["state"] for s in services(client, cust)} == {"active"}
    still = resources(client, cust)
    assert {r["id"] for r in still} == in_use
    assert {r["resourceStatus"] for r in still} == {"reserved"}


# -- events ---------------------------------------------------------------------------------


def test_service_order_events_reach_a_hub(make_app: MakeApp, listener: Listener) -> None:
    client = make_app()
    r = client.post(f"{SERVICE_ORDERING}/hub", json={"callback": listener.url})
    assert r.status_code == 201, r.text
    assert_valid(TMF641_SPEC, "EventSubscription", r.json())

    po = place(client, order(add("1", "po-fibre-1000"), customer=customer()))
    so = only(service_orders(client, po["id"]))

    def about(body: Doc) -> str | None:
        return ((body.get("event") or {}).get("serviceOrder") or {}).get("id")

    bodies = listener.wait_until(
        lambda got: any(
            b.get("eventType") == "ServiceOrderStateChangeEvent"
            and about(b) == so["id"]
            and b["event"]["serviceOrder"]["state"] == "completed"
            for b in got
        )
    )
    mine = [b for b in bodies if about(b) == so["id"]]
    for body in mine:
        assert_event(TMF641_SPEC, body)
    created = only([b for b in mine if b["eventType"] == "ServiceOrderCreateEvent"])
    assert created["event"]["serviceOrder"]["state"] == "acknowledged"
    assert created["event"]["serviceOrder"]["externalReference"][0]["id"] == po["id"]
    states = [b["event"]["serviceOrder"]["state"] for b in mine if b["eventType"] == "ServiceOrderStateChangeEvent"]
    assert states == ["inProgress", "completed"]
    assert mine[0]["eventType"] == "ServiceOrderCreateEvent"


# -- bugs -----------------------------------------------------------------------------------


def test_a_service_order_item_names_a_service_type(make_app: MakeApp) -> None:
    client = make_app()
    cust = customer()
    po = place(client, order(add("1", "po-fibre-1000"), customer=cust))
    so = only(service_orders(client, po["id"]))
    for line in so["serviceOrderItem"]:
        created = service_doc(client, line["service"]["id"])
        assert line["service"]["@type"] == created["@type"] == "CustomerFacingService", line["service"]


def test_a_failed_add_line_points_at_no_missing_service(make_app: MakeApp) -> None:
    client = make_app()
    first, second = customer(), customer()
    assert place(client, order(mobile("1", number=POOL_NUMBER), customer=first))["state"] == "completed"
    po = place(client, order(mobile("1", number=POOL_NUMBER), customer=second))
    assert po["state"] == "failed", notes(po)
    for line in only(service_orders(client, po["id"]))["serviceOrderItem"]:
        target = line["service"]
        if target.get("id"):  # a line that names a service must name one that exists
            r = client.get(f"{SERVICES}/{target['id']}")
            assert r.status_code == 200, (line["id"], line["state"], target.get("href"), r.status_code)


def test_a_callback_that_beats_the_202_keeps_its_outcome(make_app: MakeApp, listener: Listener) -> None:
    client: TestClient | None = None
    answers: list[int] = []

    def call_back_first(path: str, headers: dict[str, str], body: Any) -> int:
        # a fast network system: it reports before its 202 is even on the wire
        if client is not None and (body.get("serviceSpecification") or {}).get("id") == "ss-rfs-mobile-access":
            callback = headers["x-callback-url"].removeprefix("http://testserver")
            answers.append(
                client.post(callback, json={"state": "inError", "message": "HSS refused the IMSI"}).status_code
            )
        return 202

    listener.respond(call_back_first)
    client = make_app(activation_url=listener.url)
    po = place(client, order(mobile("1", number=POOL_NUMBER), customer=customer()))
    assert answers[:1] == [204]
    first = listener.requests[0]
    done = monitor(client, first.headers["x-request-id"])
    assert done["state"] == "inError"
    assert "HSS refused the IMSI" in (done.get("response") or {}).get("body", ""), done.get("response")
    assert "HSS refused the IMSI" in notes(po), notes(po)

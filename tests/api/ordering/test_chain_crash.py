"""The whole fulfilment chain across SIGKILLs: product order → service orders → resource orders → activation.

A real ``tmfstack serve`` on SQLite with the demo loaded (catalogs, 7 pools of 2,000
members, 4 demo orders) takes 500 product orders from 4 threads, each for its own
customer ``chain-{n}``: a fibre item (``po-fibre-300``: 2 CFS and 3 RFS, an OLT port, a
VLAN, an IPv4 address and a home gateway from the pools) and a mobile item
(``po-mobile-m``: 2 CFS and 2 RFS, the MSISDN the order names, a SIM from the pool). The
MSISDN is mandatory (configurable, no default), so each order names a free number of the
demo pool, read from TMF639 before posting (the demo's own orders hold two of them).

The server is killed with SIGKILL three times while orders come in (and are fulfilled)
and once more after posting stopped, while the backlog is being fulfilled; it is
restarted on the same file each time. Then every order must complete and the chain must
have done everything exactly once, checked through the TMF APIs over HTTP:

- TMF622: every acknowledged order (and every one committed with its 201 lost) completed;
- TMF641: exactly one service order per product order item (its derived id), completed,
  no compensation orders;
- TMF638: each customer has exactly the 9 services of the two items, each specification
  once, all active;
- TMF639: every reserved resource belongs to exactly one customer; no resource supports
  the services of two customers (or two services), each points back to its service
  (``supportsService``) and to the one reservation holding it (``reservedBy``); per pool,
  reserved = demo's + one per order; each customer holds the number its order named;
- TMF652 / TMF685: three completed resource orders per product order, each with one
  completed reservation listing exactly the resources that point back to it;
- TMF640: one activation service per RFS, active, with exactly one monitor, completed
  (no RFS activated twice);
- no leftover rows in the task table (the only direct read of the SQLite file).

Timing: a step in flight at a kill holds its task lease (10 s, the TaskRunner default)
before the next process runs it again; the waits allow for one lease after the last kill.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.ordering import ORDER_TERMINAL, ORDERS, PRODUCTS, assert_622, party
from tests.support.servers import TMFSTACK, Poster, ServerProcess, crash_server
from tmfstack.apis.ordering.product.decompose import service_order_id

LEASE = 10.0  # TaskRunner's default lease
ORDERS_TOTAL = 500
KILL_EVERY = 120  # acknowledged orders per posting run that ends with a SIGKILL
PREFIX = "chain-"

SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
RESOURCE_ORDERS = "/tmf-api/resourceOrderingManagement/v4/resourceOrder"
SERVICES = "/tmf-api/serviceInventory/v4/service"
RESOURCES = "/tmf-api/resourceInventoryManagement/v4/resource"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
MONITORS = "/tmf-api/ServiceActivationAndConfiguration/v4/monitor"
RESERVATIONS = "/tmf-api/resourcePoolManagement/v1/reservation"

#: what one order puts in TMF638 (service specification ids, each once per customer)
CFS = {"ss-cfs-internet-access", "ss-cfs-home-network", "ss-cfs-mobile-voice", "ss-cfs-mobile-data"}
RFS = {"ss-rfs-ftth-access", "ss-rfs-ip-access", "ss-rfs-home-gateway", "ss-rfs-mobile-access", "ss-rfs-packet-data"}
#: the pooled resources one order takes (one of each resource specification)
POOLED = ("rs-olt-port", "rs-vlan", "rs-ipv4-address", "rs-cpe-router", "rs-msisdn", "rs-sim-card")
ITEMS = ("fibre", "mobile")
RESOURCE_ORDERS_PER_ORDER = 3  # internet access (port, VLAN, IPv4), home network (gateway), voice (MSISDN, SIM)

Doc = dict[str, Any]

pytestmark = pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = crash_server(tmp_path / "chain.db", tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


def chain_order(n: int, msisdn: str) -> Doc:
    return {
        "externalId": f"{PREFIX}{n}",
        "relatedParty": [party(f"{PREFIX}{n}")],
        "productOrderItem": [
            {"id": "fibre", "action": "add", "productOffering": {"id": "po-fibre-300"}},
            {
                "id": "mobile",
                "action": "add",
                "productOffering": {"id": "po-mobile-m"},
                "product": {"productCharacteristic": [{"name": "MSISDN", "value": msisdn}]},
            },
        ],
    }


def fetch_all(http: httpx.Client, path: str, **params: Any) -> list[Doc]:
    """Every match of a list query, page by page (the server allows at most 1,000 per page)."""
    out: list[Doc] = []
    while True:
        r = http.get(path, params={**params, "offset": len(out), "limit": 1000})
        assert r.status_code in (200, 206), r.text
        page = r.json()
        out += page
        if len(page) < 1000:
            return out


def count(http: httpx.Client, path: str, **params: Any) -> int:
    r = http.get(path, params={**params, "limit": 1, "fields": "id"})
    assert r.status_code in (200, 206), r.text
    return int(r.headers["X-Total-Count"])


def free_msisdns(http: httpx.Client, n: int) -> list[str]:
    numbers = [
        doc["name"]
        for doc in fetch_all(
            http, RESOURCES, **{"resourceSpecification.id": "rs-msisdn", "resourceStatus": "available"}, fields="name"
        )
    ]
    assert len(numbers) >= n, f"the MSISDN pool has {len(numbers)} free numbers, {n} needed"
    return sorted(numbers)[:n]


def customer_of(doc: Doc) -> str:
    parties = doc.get("relatedParty") or []
    parties = parties if isinstance(parties, list) else [parties]
    ids = {p.get("id") for p in parties}
    assert len(ids) == 1, f"{doc.get('@type')} {doc['id']} has {len(ids)} parties: {parties}"
    return str(ids.pop())


def chain_poster(server: ServerProcess, numbers: Iterator[int], body: Callable[[int], Doc]) -> Poster:
    """A Poster with the chain's longer timeouts: 30 s a request, 35 s for each thread to end, 60 s to kill."""
    return Poster(server, numbers, body, http_timeout=30.0, join_timeout=35.0, kill_timeout=60.0)


def leased_tasks(db: Path) -> int:
    """Steps a dead server was running when it was killed (their leases have not expired)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM task WHERE lease_until > ? AND lease_owner ="
            " (SELECT lease_owner FROM task ORDER BY lease_until DESC LIMIT 1)",
            (time.time(),),
        ).fetchone()
    return int(row[0])


def leftover_tasks(db: Path) -> list[tuple[str, str, int, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT queue, key, attempts, last_error FROM task").fetchall()


def test_kill_9_four_times_while_the_chain_fulfils(server: ServerProcess) -> None:
    started = time.monotonic()
    mine = {"externalId.regex": f"^{PREFIX}"}

    def lap(what: str) -> None:
        print(f"{time.monotonic() - started:6.1f} s  {what}", flush=True)

    server.load_demo()
    server.start()
    lap("demo loaded, server up")
    with server.client() as http:
        numbers_for = free_msisdns(http, ORDERS_TOTAL)
        reserved_before = Counter(
            r["resourceSpecification"]["id"]
            for r in fetch_all(http, RESOURCES, resourceStatus="reserved", fields="resourceSpecification")
        )

    def body(n: int) -> Doc:
        return chain_order(n, numbers_for[n])

    # three posting runs end with a SIGKILL mid-stream (steps of earlier orders run meanwhile)
    numbers = iter(range(ORDERS_TOTAL))
    posters = []
    in_flight = []  # steps running at each kill
    for _ in range(3):
        posters.append(chain_poster(server, numbers, body))
        posters[-1].kill_after(KILL_EVERY)
        in_flight.append(leased_tasks(server.db))
        lap(f"SIGKILL {len(posters)} after {posters[-1].count()} acknowledged, {in_flight[-1]} steps in flight")
        server.start()
    posters.append(chain_poster(server, numbers, body))
    posters[-1].finish()
    lap(f"posting done ({posters[-1].count()} acknowledged in the last run)")

    # the fourth kill: after posting, while the backlog is being fulfilled
    with server.client() as http:
        time.sleep(1.0)
        still_open = count(http, ORDERS, state="acknowledged,inProgress", **mine)
        completed_then = count(http, ORDERS, state="completed", **mine)
    assert still_open > 0, "every order was fulfilled before the last kill: it would not hit the chain mid-way"
    server.kill9()
    in_flight.append(leased_tasks(server.db))
    lap(f"SIGKILL 4 with {still_open} orders open, {completed_then} completed, {in_flight[-1]} steps in flight")
    server.start()
    assert sum(in_flight) > 0, "no kill hit a step in flight"

    acknowledged = {k: v for p in posters for k, v in p.acknowledged.items()}
    lost_at_most = 3 * Poster.THREADS  # a POST in flight at each kill during posting
    assert len(acknowledged) >= ORDERS_TOTAL - lost_at_most
    for doc in acknowledged.values():
        assert doc["state"] == "acknowledged"
    assert_622("ProductOrder", list(acknowledged.values()))

    with server.client() as http:
        deadline = time.monotonic() + LEASE + 150
        while True:
            r = http.get(ORDERS, params={"limit": 1000, "fields": "state", **mine})
            assert r.status_code == 200, r.text
            states = {o["id"]: o["state"] for o in r.json()}
            waiting = {i: s for i, s in states.items() if s not in ORDER_TERMINAL}
            if not waiting and set(acknowledged) <= set(states):
                break
            assert time.monotonic() < deadline, f"{len(waiting)} orders still open: {Counter(waiting.values())}"
            time.sleep(0.25)
        lap("every order terminal")
        check_orders(http, acknowledged, lost_at_most)
        check_chain(http, numbers_for, reserved_before)
        lap("inventories checked")

    server.stop()
    leftover = leftover_tasks(server.db)
    assert leftover == [], f"{len(leftover)} tasks left, e.g. {leftover[:5]}"
    lap("done")


def check_orders(http: httpx.Client, acknowledged: dict[str, Doc], lost_at_most: int) -> None:
    """TMF622 and TMF641: each order completed once; one completed service order per item."""
    everything = fetch_all(http, ORDERS, **{"externalId.regex": f"^{PREFIX}"})
    assert_622("ProductOrder", everything)
    orders = {o["id"]: o for o in everything}
    assert set(acknowledged) <= set(orders)
    assert len(set(orders) - set(acknowledged)) <= lost_at_most  # committed, but the 201 was lost
    assert Counter(o["state"] for o in orders.values()) == {"completed": len(orders)}, [
        (o["id"], o["state"], [n["text"] for n in o.get("note", [])])
        for o in orders.values()
        if o["state"] != "completed"
    ][:5]
    customers = Counter(customer_of(o) for o in orders.values())
    assert max(customers.values()) == 1, "an order was taken twice"
    for o in orders.values():
        assert {i["state"] for i in o["productOrderItem"]} == {"completed"}, o["id"]

    service_orders = fetch_all(http, SERVICE_ORDERS, **{"relatedParty.id.regex": f"^{PREFIX}"})
    by_order: dict[str, list[Doc]] = defaultdict(list)
    for so in service_orders:
        by_order[so["externalId"]].append(so)
    assert set(by_order) == set(orders), "service orders for product orders that do not exist (or missing)"
    for order_id, sos in by_order.items():
        expected = {service_order_id(order_id, item) for item in ITEMS}
        assert {so["id"] for so in sos} == expected and len(sos) == len(ITEMS), (order_id, [s["id"] for s in sos])
        for so in sos:
            assert so["state"] == "completed", (so["id"], so["state"], so.get("note"))
            assert {i["state"] for i in so["serviceOrderItem"]} == {"completed"}, so["id"]

    resource_orders = fetch_all(http, RESOURCE_ORDERS, **{"relatedParty.id.regex": f"^{PREFIX}"}, fields="state")
    assert len(resource_orders) == RESOURCE_ORDERS_PER_ORDER * len(orders)
    assert Counter(ro["state"] for ro in resource_orders) == {"completed": len(resource_orders)}

    products = fetch_all(http, PRODUCTS, **{"relatedParty.id.regex": f"^{PREFIX}"}, fields="status,productOrderItem")
    assert len(products) == len(ITEMS) * len(orders)
    assert {p["status"] for p in products} == {"active"}


def check_chain(http: httpx.Client, numbers_for: list[str], reserved_before: Counter[str]) -> None:
    """TMF638, TMF639 and TMF640: everything exactly once, every resource with one customer."""
    mine = {"relatedParty.id.regex": f"^{PREFIX}"}
    customers = {customer_of(o) for o in fetch_all(http, ORDERS, **{"externalId.regex": f"^{PREFIX}"})}

    # TMF638: 9 services per customer, each specification once, all active
    services = fetch_all(
        http, SERVICES, **mine, fields="state,category,serviceSpecification,relatedParty,supportingResource"
    )
    per_customer: dict[str, list[Doc]] = defaultdict(list)
    for s in services:
        per_customer[customer_of(s)].append(s)
    assert set(per_customer) == customers
    for customer, docs in per_customer.items():
        specs = Counter(s["serviceSpecification"]["id"] for s in docs)
        assert specs == Counter(CFS | RFS), f"{customer}: services {dict(specs)}"
        assert {s["state"] for s in docs} == {"active"}, (customer, [(s["id"], s["state"]) for s in docs])
        for s in docs:
            wanted = "CustomerFacingService" if s["serviceSpecification"]["id"] in CFS else "ResourceFacingService"
            assert s["category"] == wanted, s
    rfs = {s["id"]: s for s in services if s["category"] == "ResourceFacingService"}
    assert len(rfs) == len(RFS) * len(customers)

    # TMF639: reserved resources, each with exactly one customer and one supported service
    fields = "name,resourceSpecification,relatedParty,resourceRelationship"
    reserved = fetch_all(http, RESOURCES, resourceStatus="reserved", fields=fields)
    holder = {r["id"]: customer_of(r) for r in reserved}
    supported_by: dict[str, list[str]] = defaultdict(list)  # resource id -> RFS ids listing it
    for s in rfs.values():
        for res in s.get("supportingResource") or []:
            supported_by[res["id"]].append(s["id"])
    shared = {res: by for res, by in supported_by.items() if len(by) > 1}
    assert not shared, f"resources supporting two services: {list(shared.items())[:5]}"
    for res_id, (rfs_id,) in supported_by.items():
        assert res_id in holder, f"RFS {rfs_id} is supported by {res_id}, which is not reserved"
        assert holder[res_id] == customer_of(rfs[rfs_id]), f"{res_id}: held by {holder[res_id]}, serves another"
    chain_reserved = [r for r in reserved if holder[r["id"]].startswith(PREFIX)]
    orphans = [r["name"] for r in chain_reserved if r["id"] not in supported_by]
    assert not orphans, f"{len(orphans)} resources reserved for no service (taken twice?): {orphans[:5]}"
    held_by: dict[str, str] = {}  # resource id -> the reservation holding it
    for r in chain_reserved:
        rels = [(rel.get("relationshipType"), rel.get("id")) for rel in r.get("resourceRelationship") or []]
        serves = [i for kind, i in rels if kind == "supportsService"]
        holders = [i for kind, i in rels if kind == "reservedBy"]
        assert serves == supported_by[r["id"]] and len(holders) == 1, f"{r['name']}: resourceRelationship {rels}"
        held_by[r["id"]] = holders[0]
    by_spec = Counter(r["resourceSpecification"]["id"] for r in chain_reserved)
    assert by_spec == {spec: len(customers) for spec in POOLED}, by_spec
    all_by_spec = Counter(r["resourceSpecification"]["id"] for r in reserved)
    assert all_by_spec == reserved_before + by_spec, (all_by_spec, reserved_before)
    held: dict[str, Counter[str]] = defaultdict(Counter)
    numbers: dict[str, str] = {}
    for r in chain_reserved:
        held[holder[r["id"]]][r["resourceSpecification"]["id"]] += 1
        if r["resourceSpecification"]["id"] == "rs-msisdn":
            numbers[holder[r["id"]]] = r["name"]
    assert all(c == Counter(POOLED) for c in held.values()), "a customer holds more than one resource of a kind"
    for customer, number in numbers.items():
        assert number == numbers_for[int(customer.removeprefix(PREFIX))], (customer, number)

    # TMF685: one completed reservation per resource order, holding exactly what points back to it
    reservations = [doc for doc in fetch_all(http, RESERVATIONS) if customer_of(doc).startswith(PREFIX)]
    assert len(reservations) == RESOURCE_ORDERS_PER_ORDER * len(customers)
    in_reservation: dict[str, list[str]] = defaultdict(list)
    for doc in reservations:
        assert doc["reservationState"] == "completed", (doc["id"], doc["reservationState"])
        for item in doc["reservationItem"]:
            for res in item["appliedCapacityAmount"]["resource"]:
                in_reservation[res["id"]].append(doc["id"])
    assert {res: [by] for res, by in held_by.items()} == dict(in_reservation), "reservations and reservedBy differ"

    # TMF640: one activation per RFS (same id), active and enabled, requested exactly once: a first
    # request answered at once has no monitor, and any further request would have opened one
    activations = fetch_all(http, ACTIVATIONS, **mine, fields="state,href,hasStarted,isServiceEnabled")
    assert sorted(a["id"] for a in activations) == sorted(rfs), "activation services != RFS"
    assert {a["state"] for a in activations} == {"active"}
    assert all(a["hasStarted"] and a["isServiceEnabled"] for a in activations)
    monitors = fetch_all(http, MONITORS, fields="sourceHref,state")
    by_source: dict[str, list[str]] = defaultdict(list)
    for m in monitors:
        by_source[m["sourceHref"]].append(m["state"])
    twice = {a["id"]: by_source[a["href"]] for a in activations if by_source[a["href"]]}
    assert not twice, f"{len(twice)} RFS requested more than once: {list(twice.items())[:5]}"

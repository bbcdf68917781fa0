"""Durability with real processes: ``tmfstack serve`` killed with SIGKILL, restarted on the same database.

The outbox promise: an event is committed with its change, so a change that was
acknowledged (or merely committed) is delivered after a crash, in order per
subscription; a delivery may repeat (same ``eventId``), never get lost.

Worst case for the wait after a restart: a kill that lands while a POST to the
listener is in flight leaves that delivery leased for the dispatcher's lease
(15 s) before the new process retries it. The listener answers failures at once,
so that window is a millisecond or so per retry; the waits allow for it anyway.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.listener import Listener, first_seen
from tests.support.servers import TMFSTACK, ServerProcess, crash_server

CATALOG = "/tmf-api/productCatalogManagement/v4"
PO = f"{CATALOG}/productOffering"
LEASE = 15.0  # Dispatcher's default lease
DELIVERY_WAIT = LEASE + 15.0

pytestmark = pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = crash_server(
        tmp_path / "crash.db",
        tmp_path / "server.log",
        env={
            "TMFSTACK_RETRY_BASE": "0.05",
            "TMFSTACK_RETRY_MAX": "0.5",
            "TMFSTACK_MAX_ATTEMPTS": "10000",  # nothing is parked as dead during the outages below
        },
    )
    try:
        yield srv
    finally:
        srv.stop()


def outbox(db: Path) -> dict[str, int]:
    """Delivery rows by status, read from the database file of a dead server."""
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM delivery GROUP BY status").fetchall())


def key(body: dict[str, Any]) -> tuple[str, str]:
    return body["eventType"], body["event"]["productOffering"]["id"]


def assert_duplicates_are_repeats(bodies: list[dict[str, Any]]) -> None:
    """A repeated delivery repeats the very same event: receivers can de-duplicate by eventId."""
    by_id: dict[str, dict[str, Any]] = {}
    for b in bodies:
        assert by_id.setdefault(b["eventId"], b) == b, f"eventId {b['eventId']} delivered with different bodies"
    keys = [key(b) for b in first_seen(bodies)]
    assert len(keys) == len(set(keys)), "one change was delivered as two different events"


def test_kill_9_with_pending_deliveries_loses_no_event(server: ServerProcess, listener: Listener) -> None:
    server.start()
    with server.client() as http:
        r = http.post(f"{CATALOG}/hub", json={"callback": listener.url})
        assert r.status_code == 201, r.text
        listener.fail()

        expected: list[tuple[str, str]] = []
        per_resource: dict[str, list[str]] = {}

        def expect(event: str, id: str) -> None:
            expected.append((f"ProductOffering{event}Event", id))
            per_resource.setdefault(id, []).append(f"ProductOffering{event}Event")

        ids = []
        for i in range(30):
            r = http.post(PO, json={"name": f"Crash {i}"})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            expect("Create", ids[-1])
        for i, id in enumerate(ids):
            if i % 2 == 0:
                assert http.patch(f"{PO}/{id}", json={"name": f"Crash {i} v2"}).status_code == 200
                expect("AttributeValueChange", id)
            if i % 3 == 0:
                assert http.patch(f"{PO}/{id}", json={"lifecycleStatus": "In test"}).status_code == 200
                expect("StateChange", id)
            if i % 5 == 0:
                assert http.delete(f"{PO}/{id}").status_code == 204
                expect("Delete", id)
        assert len(expected) == 30 + 15 + 10 + 6

        # the dispatcher is retrying against the failing listener; kill it just after it recorded
        # a failure (killing it right after the listener answered would leave the delivery leased)
        listener.wait_requests(3)
        deadline = time.monotonic() + 10
        while http.get("/admin/deliveries", params={"status": "pending"}).json()[0]["attempts"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert listener.bodies == []
    server.kill9()

    # every event is in the outbox of the killed process, none delivered
    assert outbox(server.db) == {"pending": len(expected)}

    listener.recover()
    server.start()
    bodies = listener.wait_until(lambda got: {key(b) for b in got} >= set(expected), timeout=DELIVERY_WAIT)

    assert_duplicates_are_repeats(bodies)
    unique = first_seen(bodies)
    assert {key(b) for b in unique} == set(expected)
    assert len(unique) == len(expected)
    # one subscription: the events arrive in the order they were committed, per resource and overall
    for id, types in per_resource.items():
        assert [t for t, rid in map(key, unique) if rid == id] == types, f"events of {id} out of order"
    assert [key(b) for b in unique] == expected

    with server.client() as http:
        deadline = time.monotonic() + 10
        while (rows := http.get("/admin/deliveries").json()) and any(d["status"] != "delivered" for d in rows):
            assert time.monotonic() < deadline, [d for d in rows if d["status"] != "delivered"]
            time.sleep(0.05)
        assert len(rows) == len(expected)
        assert [d["payload"]["eventId"] for d in rows] == [b["eventId"] for b in unique]


def test_kill_9_during_a_burst_of_posts(server: ServerProcess, listener: Listener) -> None:
    server.start()
    with server.client() as http:
        r = http.post(
            f"{CATALOG}/hub", json={"callback": listener.url, "query": "eventType=ProductOfferingCreateEvent"}
        )
        assert r.status_code == 201, r.text
    listener.stop()  # deliveries fail (connection refused) and stay pending across the crash

    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def post_until_crash(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = http.post(PO, json={"name": f"Burst {worker}-{n}", "description": "x" * 200})
                except httpx.HTTPError:
                    return  # the server died under this request
                if r.status_code != 201:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
                    return
                with lock:
                    acknowledged[r.json()["id"]] = r.json()

    threads = [threading.Thread(target=post_until_crash, args=(w,), daemon=True) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while len(acknowledged) < 60:
        assert time.monotonic() < deadline and not errors, (len(acknowledged), errors)
        time.sleep(0.01)
    server.kill9()  # the POST threads are still sending
    for t in threads:
        t.join(timeout=15)
    stop.set()
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    listener.start()  # back on the same port
    server.start()
    with server.client() as http:
        for id, doc in acknowledged.items():
            r = http.get(f"{PO}/{id}")
            assert r.status_code == 200, f"acknowledged offering {id} lost: {r.text}"
            assert r.json() == doc
        r = http.get(PO, params={"limit": 1000, "fields": "id"})
        stored = {d["id"] for d in r.json()}
    assert set(acknowledged) <= stored
    assert len(stored - set(acknowledged)) <= len(threads)  # committed, but the 201 was lost with the process

    # every committed offering, and only those, has its CreateEvent delivered
    bodies = listener.wait_until(lambda got: {key(b)[1] for b in got} >= stored, timeout=DELIVERY_WAIT)
    time.sleep(0.3)
    bodies = listener.bodies
    assert_duplicates_are_repeats(bodies)
    assert {key(b) for b in bodies} == {("ProductOfferingCreateEvent", id) for id in stored}
    for b in first_seen(bodies):
        if b["event"]["productOffering"]["id"] in acknowledged:
            assert b["event"]["productOffering"] == acknowledged[b["event"]["productOffering"]["id"]]

"""The order manager across SIGKILLs: a real ``tmfstack serve`` killed while it takes and fulfils orders.

Each order has three add items (fibre, a mobile line, a roaming pass that needs the
line). The server is killed twice while orders are still coming in and being
fulfilled, restarted on the same SQLite file each time, and then every order that
was answered 201 (and every order committed whose answer was lost) must end; each
completed order has exactly one product per add item (the product id derives from
order and item ids, so a replayed step cannot create a second one).

Timing: a step in flight at a kill holds its task lease (30 s, the TaskRunner default)
before the next process runs it again; both kills fall inside one lease window so
the test waits for it once.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ordering import ORDER_TERMINAL, ORDERS, PRODUCTS, add, assert_622, assert_637, mobile, order
from tests.support.servers import TMFSTACK, Poster, ServerProcess, crash_server
from tmfstack.apis.ordering.product.fulfil import product_id

LEASE = 10.0  # TaskRunner's default lease
ITEMS = ("fibre", "line", "roaming")
BATCH = 100

pytestmark = pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = crash_server(tmp_path / "orders.db", tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


def three_items(n: int) -> dict[str, Any]:
    return order(
        add("fibre", "po-fibre-300"),
        mobile("line", number=f"+3370{n:07d}"),
        add("roaming", "po-roaming-pass-world"),
        customer=f"crash-{n}",
    )


def leftover_tasks(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT queue, key FROM task WHERE queue IN ('productOrder', 'cancelProductOrder')"
        ).fetchall()


def test_kill_9_twice_while_orders_are_fulfilled(server: ServerProcess) -> None:
    started = time.monotonic()
    server.load_demo()
    server.start()

    # one batch of orders, posted in three runs: the first two end with a SIGKILL mid-stream
    numbers = iter(range(BATCH))
    first = Poster(server, numbers, three_items)
    first.kill_after(40)
    server.start()
    second = Poster(server, numbers, three_items)
    second.kill_after(30)
    server.start()
    third = Poster(server, numbers, three_items)
    third.finish()

    acknowledged = {**first.acknowledged, **second.acknowledged, **third.acknowledged}
    assert len(acknowledged) >= BATCH - 2 * Poster.THREADS
    for doc in acknowledged.values():
        assert doc["state"] == "acknowledged"
        assert_622("ProductOrder", doc)

    with server.client() as http:
        deadline = time.monotonic() + LEASE + 10
        while True:
            r = http.get(ORDERS, params={"limit": 1000, "fields": "state"})
            assert r.status_code == 200, r.text
            states = {o["id"]: o["state"] for o in r.json()}
            waiting = {i: s for i, s in states.items() if s not in ORDER_TERMINAL}
            if not waiting and set(acknowledged) <= set(states):
                break
            assert time.monotonic() < deadline, f"{len(waiting)} orders still open: {Counter(waiting.values())}"
            time.sleep(0.2)

        # acknowledged orders survived; at most one per kill and thread was committed with its 201 lost
        r = http.get(ORDERS, params={"limit": 1000})
        assert r.status_code == 200, r.text
        everything = r.json()
        assert_622("ProductOrder", everything)
        orders = {o["id"]: o for o in everything if o["relatedParty"][0]["id"].startswith("crash-")}  # not the demo's
        assert set(acknowledged) <= set(orders)
        assert len(set(orders) - set(acknowledged)) <= 2 * Poster.THREADS
        assert Counter(o["state"] for o in orders.values()) == {"completed": len(orders)}, [
            (o["id"], o["state"], [n["text"] for n in o.get("note", [])])
            for o in orders.values()
            if o["state"] != "completed"
        ]
        customers = Counter(o["relatedParty"][0]["id"] for o in orders.values())
        assert max(customers.values()) == 1, "an order was taken twice"

        r = http.get(PRODUCTS, params={"limit": 1000})
        assert r.status_code == 200, r.text
        made = r.json()
        assert_637("Product", made)

    refs = Counter(
        (ref["productOrderId"], ref["orderItemId"])
        for p in made
        for ref in p["productOrderItem"]
        if ref.get("orderItemAction") == "add"
    )
    duplicated = [key for key, n in refs.items() if n > 1]
    assert not duplicated, f"products created twice for {duplicated}"
    assert len({p["id"] for p in made}) == len(made)
    by_order: dict[str, set[str]] = {}
    for p in made:
        for ref in p["productOrderItem"]:
            by_order.setdefault(ref["productOrderId"], set()).add(p["id"])
    mine = [p for p in made if {r["productOrderId"] for r in p["productOrderItem"]} & set(orders)]
    for order_id, doc in orders.items():
        expected = {product_id(order_id, item) for item in ITEMS}
        assert by_order.get(order_id) == expected, f"order {order_id}: {by_order.get(order_id)} != {expected}"
        assert {i["state"] for i in doc["productOrderItem"]} == {"completed"}
        assert doc["note"][-1]["text"] == "inProgress → completed"
    assert len(mine) == 3 * len(orders)
    assert {p["status"] for p in mine} == {"active"}

    server.stop()
    assert leftover_tasks(server.db) == []
    assert time.monotonic() - started < 60

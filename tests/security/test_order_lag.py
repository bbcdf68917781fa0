"""The order manager's work on the largest order it accepts does not stall the event loop.

An order step runs in one unit of work, and on SQLite a unit's writes stay on the loop (see
``store/sqlite.py``): the bound is the number of items an order may hold
(``TMFSTACK_MAX_ORDER_ITEMS``). A real ``tmfstack serve`` with the demo catalog fulfils an
order of that many device items while /health is asked every 10 ms from this process; the
longest answer must stay under 100 ms. With 1,000 items (the earlier default) one step held
the loop for ~380 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tmfstack.limits import Limits

TMFSTACK = Path(sys.executable).parent / "tmfstack"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
DONE = {"completed", "failed", "partial", "held", "rejected"}


def test_largest_order_keeps_health_fast(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/lag.db"
    env = {**os.environ, "TMFSTACK_AUTH": "off"}
    subprocess.run([str(TMFSTACK), "demo", "--database", db], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen(
            [str(TMFSTACK), "serve", "--no-auth", "--port", str(port), "--database", db],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(200):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            items = [
                {"id": str(i), "action": "add", "productOffering": {"id": "po-galaxy-s25"}}
                for i in range(1, Limits().order_items + 1)
            ]
            order = {
                "relatedParty": [{"id": "cust-lag", "role": "customer", "@referredType": "Individual"}],
                "billingAccount": {"id": "ba-lag"},
                "productOrderItem": items,
            }
            r = client.post(ORDERS, json=order)
            assert r.status_code == 201, r.text[:300]
            order_id = r.json()["id"]
            latencies: list[float] = []
            state = None
            deadline = time.monotonic() + 60
            while state not in DONE and time.monotonic() < deadline:
                started = time.perf_counter()
                assert client.get("/health").status_code == 200
                latencies.append(time.perf_counter() - started)
                if len(latencies) % 10 == 0:
                    state = client.get(f"{ORDERS}/{order_id}?fields=state").json()["state"]
                time.sleep(0.01)
    finally:
        server.terminate()
        server.wait(10)
    report = f"{len(items)} items: order {state}, /health max {max(latencies) * 1000:.1f} ms over {len(latencies)}"
    print(report)
    assert state == "completed", report
    assert max(latencies) < 0.100, report

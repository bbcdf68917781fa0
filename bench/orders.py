"""End-to-end ordering benchmark: POST productOrder → completed, products active in TMF637.

    .venv/bin/python bench/orders.py                 # 1,000 orders of 3 items, 16 concurrent clients
    .venv/bin/python bench/orders.py --orders 200    # quicker

The server (``tmfstack serve``, SQLite, demo catalog) runs pinned to core 0 with its order
manager in the same process; the client (httpx, asyncio) runs on core 1. Each order has
three ``add`` items (a fibre plan, the router that requires it, a second line) for its own
customer, so the manager validates the "requires" rule against the order and the inventory.

Orders per second = orders / (time from the first POST to the moment the last order is
completed, seen by polling ``state=completed`` counts). Lead time per order =
``completionDate - orderDate``, both stamped by the server (so polling does not inflate it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TMFSTACK = ROOT / ".venv" / "bin" / "tmfstack"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PRODUCTS = "/tmf-api/productInventory/v4/product"
TARGET_RATE, TARGET_P50_MS = 200.0, 100.0


def order_body(i: int) -> dict[str, object]:
    customer = {"id": f"bench-{i}", "@referredType": "Individual", "role": "customer"}
    return {
        "externalId": f"bench-{i}",
        "relatedParty": [customer],
        "billingAccount": {"id": f"ba-bench-{i}", "@referredType": "BillingAccount"},
        "productOrderItem": [
            {"id": "1", "action": "add", "productOffering": {"id": "po-fibre-500"}},
            {"id": "2", "action": "add", "productOffering": {"id": "po-wifi-router"}},
            {"id": "3", "action": "add", "productOffering": {"id": "po-fibre-300"}},
        ],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def drive(base: str, n: int, concurrency: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        ids: list[str] = []

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                r = await client.post(ORDERS, json=order_body(i))
                if r.status_code != 201:
                    raise SystemExit(f"POST answered {r.status_code}: {r.text[:300]}")
                ids.append(r.json()["id"])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        posted = time.perf_counter()
        while True:
            r = await client.get(ORDERS, params={"state": "completed", "externalId.regex": "^bench-", "limit": 1})
            done = int(r.headers["X-Total-Count"])
            r = await client.get(ORDERS, params={"state": "rejected,failed,partial", "limit": 1})
            if int(r.headers["X-Total-Count"]):
                raise SystemExit("some orders did not complete: " + r.text[:500])
            if done >= n:
                break
            await asyncio.sleep(0.02)
        finished = time.perf_counter()
        leads = []
        for offset in range(0, n, 1000):
            r = await client.get(ORDERS, params={"fields": "orderDate,completionDate", "offset": offset, "limit": 1000})
            for o in r.json():
                if "completionDate" in o:
                    leads.append((_epoch(o["completionDate"]) - _epoch(o["orderDate"])) * 1000)
        r = await client.get(PRODUCTS, params={"status": "active", "limit": 1})
        active = int(r.headers["X-Total-Count"])
    return {
        "orders": n,
        "items_per_order": 3,
        "post_seconds": posted - start,
        "total_seconds": finished - start,
        "orders_per_s": n / (finished - start),
        "lead_p50_ms": statistics.median(leads),
        "lead_p99_ms": _pct(leads, 0.99),
        "active_products": active,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tmfstack-orders-"))
    db = f"sqlite:///{work / 'orders.db'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TMFSTACK_PUBLIC_URL": base}
    # two fibre lines per order, each taking a port, a VLAN, an address and a gateway from the pools
    pools = str(2 * args.orders + 100)
    subprocess.run(
        [str(TMFSTACK), "demo", "--database", db, "--pool-size", pools], check=True, env=env, stdout=subprocess.DEVNULL
    )
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [*_pin(0), str(TMFSTACK), "serve", "--port", str(port), "--database", db], env=env, stdout=log, stderr=log
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        if _pin(1):
            os.sched_setaffinity(0, {1})
        result = asyncio.run(drive(base, args.orders, args.concurrency))
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    ok = result["orders_per_s"] >= TARGET_RATE and result["lead_p50_ms"] <= TARGET_P50_MS
    print(f"## Ordering end to end: {args.orders} orders of 3 items, {args.concurrency} concurrent clients\n")
    print("| orders/s | lead time p50 | lead time p99 | active products | target | result |")
    print("|---:|---:|---:|---:|---|---|")
    print(
        f"| {result['orders_per_s']:.0f} | {result['lead_p50_ms']:.1f} ms | {result['lead_p99_ms']:.1f} ms"
        f" | {result['active_products']} | ≥ {TARGET_RATE:.0f} orders/s, p50 ≤ {TARGET_P50_MS:.0f} ms"
        f" | {'PASS' if ok else 'FAIL'} |"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "orders.json").write_text(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end ordering benchmark: POST productOrder → completed, products active in TMF637.

    .venv/bin/python bench/orders.py                 # 1,000 orders of 3 items, 16 concurrent clients
    .venv/bin/python bench/orders.py --orders 200    # quicker

The server (``tmfstack serve``, SQLite, demo catalog) runs pinned to core 0 with its order
manager in the same process; the client (httpx, asyncio) runs on core 1. Each order has
three ``add`` items (a fibre plan, the router that requires it, a second line) for its own
customer, so the manager validates the "requires" rule against the order and the inventory.

Orders per second = orders / (time from the first POST to the moment the last order is
completed, seen by polling ``state=completed`` counts of the bench orders). Lead time per
order = ``completionDate - orderDate``, both stamped by the server (so polling does not
inflate it). The demo's own orders are left out of both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import httpx
from common import PREFIX, PRODUCTS, RESULTS, Bench, count, place_orders

TARGET_RATE, TARGET_P50_MS = 200.0, 100.0


def order_body(i: int) -> dict[str, object]:
    customer = {"id": f"{PREFIX}{i}", "@referredType": "Individual", "role": "customer"}
    return {
        "externalId": f"{PREFIX}{i}",
        "relatedParty": [customer],
        "billingAccount": {"id": f"ba-{PREFIX}{i}", "@referredType": "BillingAccount"},
        "productOrderItem": [
            {"id": "1", "action": "add", "productOffering": {"id": "po-fibre-500"}},
            {"id": "2", "action": "add", "productOffering": {"id": "po-wifi-router"}},
            {"id": "3", "action": "add", "productOffering": {"id": "po-fibre-300"}},
        ],
    }


async def drive(base: str, n: int, concurrency: int, headers: dict[str, str]) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits, headers=headers) as client:
        run = await place_orders(client, n, concurrency, order_body)
        active = await count(client, PRODUCTS, status="active", **{"relatedParty.id.regex": "^bench-"})
    return {"orders": n, "items_per_order": 3, **run.timing(), "active_products": active}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with Bench("orders") as bench:
        # two fibre lines per order, each taking a port, a VLAN, an address and a gateway from the pools
        bench.load_demo(pool_size=2 * args.orders + 100)
        bench.serve()
        result = asyncio.run(drive(bench.base, args.orders, args.concurrency, bench.headers))
    ok = result["orders_per_s"] >= TARGET_RATE and result["lead_p50_ms"] <= TARGET_P50_MS
    print(f"## Ordering end to end: {args.orders} orders of 3 items, {args.concurrency} concurrent clients\n")
    print("| orders/s | lead time p50 | lead time p99 | active products | target | result |")
    print("|---:|---:|---:|---:|---|---|")
    print(
        f"| {result['orders_per_s']:.0f} | {result['lead_p50_ms']:.1f} ms | {result['lead_p99_ms']:.1f} ms"
        f" | {result['active_products']} | ≥ {TARGET_RATE:.0f} orders/s, p50 ≤ {TARGET_P50_MS:.0f} ms"
        f" | {'PASS' if ok else 'FAIL'} |"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "orders.json").write_text(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fulfilment-chain benchmark: POST productOrder → service orders → resource orders → activation → completed.

    .venv/bin/python bench/chain.py                  # 1,000 orders (fibre + mobile line), 16 concurrent clients
    .venv/bin/python bench/chain.py --orders 300     # quicker
    .venv/bin/python bench/chain.py --mix alternate  # every other order fibre only / mobile only
    .venv/bin/python bench/chain.py --orders 300 --profile   # py-spy the server (numbers not comparable)

The server (``tmfstack serve``, SQLite, ``tmfstack demo`` loaded: catalogs, 7 pools of 2,000
members, 4 demo orders) runs pinned to core 0 with all its managers in the same process; the
client (httpx, asyncio) runs on core 1. Each order is for its own customer and has a fibre
item (``po-fibre-300``: 2 CFS, 3 RFS, an OLT port, a VLAN, an IPv4 address and a home
gateway from the pools) and a mobile item (``po-mobile-m``: 2 CFS, 2 RFS, the MSISDN the
order names and a SIM from the pools). Every RFS is activated through TMF640 (the simulator,
zero latency).

Orders per second = orders / (time from the first POST to the moment the last order is
completed, seen by polling ``state=completed`` counts). Lead time per order =
``completionDate - orderDate``, both stamped by the server. At the end the inventories are
counted for the bench customers: TMF637 active products, TMF638 active services, TMF640
active activation services and TMF639 reserved resources must all match the orders.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from common import (
    NOT_COMPLETED,
    PREFIX,
    PRODUCTS,
    RESULTS,
    ROOT,
    Bench,
    count,
    pin,
    place_orders,
)

from tmfstack.demo import POOL_SIZE

PYSPY = ROOT / ".venv" / "bin" / "py-spy"
SERVICES = "/tmf-api/serviceInventory/v4/service"
RESOURCES = "/tmf-api/resourceInventoryManagement/v4/resource"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
TARGET_RATE, TARGET_P50_MS = 100.0, 200.0
#: the demo pools hold POOL_SIZE members each; the 4 demo orders take some, so leave a margin
MAX_ORDERS = POOL_SIZE - 100

#: what one item puts in the inventories: (products, services CFS+RFS, activations = RFS, pooled resources)
FOOTPRINT = {"fibre": (1, 5, 3, 4), "mobile": (1, 4, 2, 2)}


def kinds(i: int, mix: str) -> tuple[str, ...]:
    if mix == "alternate":
        return ("fibre",) if i % 2 == 0 else ("mobile",)
    return ("fibre", "mobile")


def order_body(i: int, mix: str, numbers: list[str]) -> dict[str, Any]:
    customer = {"id": f"{PREFIX}{i}", "name": f"Bench customer {i}", "role": "customer"}
    customer["@referredType"] = "Individual"
    items: list[dict[str, Any]] = []
    for kind in kinds(i, mix):
        item: dict[str, Any] = {"id": str(len(items) + 1), "action": "add"}
        if kind == "fibre":
            item["productOffering"] = {"id": "po-fibre-300"}
        else:
            item["productOffering"] = {"id": "po-mobile-m"}
            item["product"] = {"productCharacteristic": [{"name": "MSISDN", "value": numbers[i]}]}
        items.append(item)
    return {
        "externalId": f"{PREFIX}{i}",
        "relatedParty": [customer],
        "billingAccount": {"id": f"ba-{PREFIX}{i}", "@referredType": "BillingAccount"},
        "productOrderItem": items,
    }


async def free_numbers(client: httpx.AsyncClient, n: int) -> list[str]:
    """``n`` free MSISDNs of the demo pool (TMF639), so each order names a number nobody holds."""
    out: list[str] = []
    while len(out) < n:
        params = {
            "resourceSpecification.id": "rs-msisdn",
            "resourceStatus": "available",
            "sort": "name",
            "fields": "name",
            "offset": len(out),
            "limit": min(1000, n - len(out)),
        }
        r = await client.get(RESOURCES, params=params)
        page = [doc["name"] for doc in r.json()]
        if not page:
            raise SystemExit(f"the MSISDN pool has only {len(out)} free numbers, {n} needed")
        out += page
    return out


async def drive(base: str, n: int, concurrency: int, mix: str, headers: dict[str, str]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits, headers=headers) as client:
        mobiles = sum("mobile" in kinds(i, mix) for i in range(n))
        numbers = await free_numbers(client, n) if mobiles else []
        run = await place_orders(
            client, n, concurrency, lambda i: order_body(i, mix, numbers), failed=f"{NOT_COMPLETED},held"
        )
        party = {"relatedParty.id.regex": f"^{PREFIX}"}
        counts = {
            "active_products": await count(client, PRODUCTS, status="active", **party),
            "active_services": await count(client, SERVICES, state="active", **party),
            "services": await count(client, SERVICES, **party),
            "active_activations": await count(client, ACTIVATIONS, state="active", **party),
            "reserved_resources": await count(client, RESOURCES, resourceStatus="reserved", **party),
            "completed_service_orders": await count(client, SERVICE_ORDERS, state="completed", **party),
        }
    items = [kind for i in range(n) for kind in kinds(i, mix)]
    services = sum(FOOTPRINT[k][1] for k in items)  # every service of a completed order is active
    expected = {
        "active_products": sum(FOOTPRINT[k][0] for k in items),
        "active_services": services,
        "services": services,
        "active_activations": sum(FOOTPRINT[k][2] for k in items),
        "reserved_resources": sum(FOOTPRINT[k][3] for k in items),
        "completed_service_orders": len(items),
    }
    return {
        "orders": n,
        "mix": mix,
        "items": len(items),
        "concurrency": concurrency,
        **run.timing(),
        "lead_max_ms": max(run.leads),
        "inventory": counts,
        "inventory_expected": expected,
        "inventory_ok": counts == expected,
    }


def _spy(pid: int, raw: Path) -> subprocess.Popen[bytes] | None:
    if not PYSPY.exists():
        print(f"--profile needs py-spy: {ROOT / '.venv/bin/pip'} install py-spy", file=sys.stderr)
        return None
    cmd = [str(PYSPY), "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", str(raw)]
    return subprocess.Popen([*pin(1), *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mix", choices=("both", "alternate"), default="both", help="items per order (see above)")
    parser.add_argument("--profile", action="store_true", help="py-spy the server while it works")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, server log)")
    args = parser.parse_args()
    if args.orders > MAX_ORDERS:
        print(
            f"the demo pools hold {POOL_SIZE:,} members each (4 demo orders take some):"
            f" use at most {MAX_ORDERS:,} orders"
        )
        return 2
    raw = RESULTS / "profile-chain.txt"
    with Bench("chain", keep=args.keep) as bench:
        seconds = bench.load_demo()
        print(f"demo loaded in {seconds:.1f} s ({bench.work})", flush=True)
        server = bench.serve("--log-level", "warning")
        RESULTS.mkdir(parents=True, exist_ok=True)
        spy = None
        try:
            if args.profile:
                spy = _spy(server.pid, raw)
                time.sleep(1.0)  # py-spy attaches
            result = asyncio.run(drive(bench.base, args.orders, args.concurrency, args.mix, bench.headers))
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
                _, err = spy.communicate(timeout=60)
                if spy.returncode != 0:
                    print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
    ok = result["orders_per_s"] >= TARGET_RATE and result["lead_p50_ms"] <= TARGET_P50_MS and result["inventory_ok"]
    what = "fibre + mobile line" if args.mix == "both" else "fibre or mobile line, alternating"
    print(f"\n## Fulfilment chain end to end: {args.orders} orders ({what}), {args.concurrency} concurrent clients\n")
    print("| orders/s | lead time p50 | lead time p99 | POST phase | inventories | target | result |")
    print("|---:|---:|---:|---:|---|---|---|")
    print(
        f"| {result['orders_per_s']:.0f} | {result['lead_p50_ms']:.1f} ms | {result['lead_p99_ms']:.1f} ms"
        f" | {result['post_seconds']:.1f} s | {'match' if result['inventory_ok'] else 'MISMATCH'}"
        f" | ≥ {TARGET_RATE:.0f} orders/s, p50 ≤ {TARGET_P50_MS:.0f} ms | {'PASS' if ok else 'FAIL'} |"
    )
    print("\ninventories (bench customers): " + ", ".join(f"{k} {v}" for k, v in result["inventory"].items()))
    if not result["inventory_ok"]:
        print(
            "expected:                       " + ", ".join(f"{k} {v}" for k, v in result["inventory_expected"].items())
        )
    if args.profile:
        print("\n(profiled run: py-spy slows the server, the numbers above are not the measured ones)")
        if raw.exists():
            sys.path.insert(0, str(ROOT / "bench"))
            from profile_summary import summarize

            print(summarize(raw))
    else:
        (RESULTS / "chain.json").write_text(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

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
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TMFSTACK = ROOT / ".venv" / "bin" / "tmfstack"
PYSPY = ROOT / ".venv" / "bin" / "py-spy"
RESULTS = ROOT / "bench" / "results"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PRODUCTS = "/tmf-api/productInventory/v4/product"
SERVICES = "/tmf-api/serviceInventory/v4/service"
RESOURCES = "/tmf-api/resourceInventoryManagement/v4/resource"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
TARGET_RATE, TARGET_P50_MS = 100.0, 200.0
CUSTOMER = "bench-"  #: customer ids and externalIds are CUSTOMER + order number

#: what one item puts in the inventories: (products, services CFS+RFS, activations = RFS, pooled resources)
FOOTPRINT = {"fibre": (1, 5, 3, 4), "mobile": (1, 4, 2, 2)}


def kinds(i: int, mix: str) -> tuple[str, ...]:
    if mix == "alternate":
        return ("fibre",) if i % 2 == 0 else ("mobile",)
    return ("fibre", "mobile")


def order_body(i: int, mix: str, numbers: list[str]) -> dict[str, Any]:
    customer = {"id": f"{CUSTOMER}{i}", "name": f"Bench customer {i}", "role": "customer"}
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
        "externalId": f"{CUSTOMER}{i}",
        "relatedParty": [customer],
        "billingAccount": {"id": f"ba-{CUSTOMER}{i}", "@referredType": "BillingAccount"},
        "productOrderItem": items,
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


async def _count(client: httpx.AsyncClient, path: str, **params: str) -> int:
    r = await client.get(path, params={**params, "limit": 1, "fields": "id"})
    if r.status_code not in (200, 206):
        raise SystemExit(f"GET {path} {params} answered {r.status_code}: {r.text[:300]}")
    return int(r.headers["X-Total-Count"])


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


async def drive(base: str, n: int, concurrency: int, mix: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        mobiles = sum("mobile" in kinds(i, mix) for i in range(n))
        numbers = await free_numbers(client, n) if mobiles else []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                r = await client.post(ORDERS, json=order_body(i, mix, numbers))
                if r.status_code != 201:
                    raise SystemExit(f"POST answered {r.status_code}: {r.text[:300]}")

        mine = {"externalId.regex": f"^{CUSTOMER}"}
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        posted = time.perf_counter()
        while True:
            done = await _count(client, ORDERS, state="completed", **mine)
            if await _count(client, ORDERS, state="rejected,failed,partial,held", **mine):
                r = await client.get(ORDERS, params={"state": "rejected,failed,partial,held", "limit": 3, **mine})
                raise SystemExit("some orders did not complete: " + r.text[:1500])
            if done >= n:
                break
            await asyncio.sleep(0.02)
        finished = time.perf_counter()

        leads = []
        for offset in range(0, n, 1000):
            params = {"fields": "orderDate,completionDate", "offset": offset, "limit": 1000, **mine}
            r = await client.get(ORDERS, params=params)
            leads += [(_epoch(o["completionDate"]) - _epoch(o["orderDate"])) * 1000 for o in r.json()]

        party = {"relatedParty.id.regex": f"^{CUSTOMER}"}
        counts = {
            "active_products": await _count(client, PRODUCTS, status="active", **party),
            "active_services": await _count(client, SERVICES, state="active", **party),
            "services": await _count(client, SERVICES, **party),
            "active_activations": await _count(client, ACTIVATIONS, state="active", **party),
            "reserved_resources": await _count(client, RESOURCES, resourceStatus="reserved", **party),
            "completed_service_orders": await _count(client, SERVICE_ORDERS, state="completed", **party),
        }
    items = [kind for i in range(n) for kind in kinds(i, mix)]
    expected = {
        "active_products": sum(FOOTPRINT[k][0] for k in items),
        "active_services": sum(FOOTPRINT[k][1] for k in items),
        "services": sum(FOOTPRINT[k][1] for k in items),
        "active_activations": sum(FOOTPRINT[k][2] for k in items),
        "reserved_resources": sum(FOOTPRINT[k][3] for k in items),
        "completed_service_orders": len(items),
    }
    return {
        "orders": n,
        "mix": mix,
        "items": len(items),
        "concurrency": concurrency,
        "post_seconds": posted - start,
        "total_seconds": finished - start,
        "orders_per_s": n / (finished - start),
        "lead_p50_ms": statistics.median(leads),
        "lead_p99_ms": _pct(leads, 0.99),
        "lead_max_ms": max(leads),
        "inventory": counts,
        "inventory_expected": expected,
        "inventory_ok": counts == expected,
    }


def _spy(pid: int, raw: Path) -> subprocess.Popen[bytes] | None:
    if not PYSPY.exists():
        print(f"--profile needs py-spy: {ROOT / '.venv/bin/pip'} install py-spy", file=sys.stderr)
        return None
    cmd = [str(PYSPY), "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", str(raw)]
    return subprocess.Popen([*_pin(1), *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mix", choices=("both", "alternate"), default="both", help="items per order (see above)")
    parser.add_argument("--profile", action="store_true", help="py-spy the server while it works")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, server log)")
    args = parser.parse_args()
    if args.orders > 1900:
        print("the demo pools hold 2,000 members each (4 demo orders take some): use at most 1,900 orders")
        return 2
    work = Path(tempfile.mkdtemp(prefix="tmfstack-chain-"))
    db = f"sqlite:///{work / 'chain.db'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TMFSTACK_PUBLIC_URL": base}
    env.pop("TMFSTACK_DATABASE_URL", None)
    loaded = time.perf_counter()
    subprocess.run([str(TMFSTACK), "demo", "--database", db], check=True, env=env, stdout=subprocess.DEVNULL)
    print(f"demo loaded in {time.perf_counter() - loaded:.1f} s ({work})", flush=True)
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [*_pin(0), str(TMFSTACK), "serve", "--port", str(port), "--database", db, "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=log,
    )
    raw = RESULTS / "profile-chain.txt"
    spy = None
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        if _pin(1):
            os.sched_setaffinity(0, {1})
        RESULTS.mkdir(parents=True, exist_ok=True)
        if args.profile:
            spy = _spy(server.pid, raw)
            time.sleep(1.0)  # py-spy attaches
        result = asyncio.run(drive(base, args.orders, args.concurrency, args.mix))
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
        server.terminate()
        server.wait(10)
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
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

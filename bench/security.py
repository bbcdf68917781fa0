"""Security edge benchmark: token issuance, a partner's isolated order list, and one client's rate
held by two replicas sharing Redis.

    .venv/bin/python bench/security.py                  # all three, with the issue's sizes
    .venv/bin/python bench/security.py --only tokens,partner --orders 20000

* tokens: ``POST /oauth2/token`` (client credentials, Basic) with wrk, the server on one core;
  target ≥ 500 tokens/s.
* partner: 100,000 product orders of 100 partners (1,000 each; seeded through the engine's own
  create path with each partner as Seller), ``GET …/productOrder?limit=20`` as one partner
  (filtered by the isolation index) and as the operator (unfiltered), wrk, same server;
  target: partner ≥ 0.8 x operator.
* replicas: a client allowed 50/s with a burst of 100, two ``tmfstack serve`` processes on one
  database sharing buckets in a private ``redis-server``, each hammered by its own wrk for 20 s;
  the requests admitted (2xx) per second against 50/s; target: within 10 %.

Needs wrk, taskset and (for replicas) redis-server. Results in ``bench/results/security.md``/``.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, TMFSTACK, free_port, pin, start_server, tmfstack_server
from run import parse_wrk

from tmfstack.bootstrap import build_engine
from tmfstack.settings import Settings

LUA = Path(__file__).resolve().parent / "lua"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
UNLIMITED = {"TMFSTACK_RATE": "10000000/s", "TMFSTACK_BURST": "10000000"}
UNLIMITED_ANON = {"TMFSTACK_ANON_RATE": "10000000/s", "TMFSTACK_ANON_BURST": "10000000"}


def cli(*args: str, database: str) -> str:
    done = subprocess.run([str(TMFSTACK), *args, "--database", database], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tmfstack {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def secret_of(output: str) -> str:
    return next(line.split()[1] for line in output.splitlines() if line.startswith("secret:"))


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str], script: str | None = None
) -> dict[str, float]:
    cmd = [*pin(1), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", str(LUA / script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def env(work: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TMFSTACK_")}
    return {**base, "TMFSTACK_EXPORT_DIR": str(work / "exports"), **extra}


# -- tokens --------------------------------------------------------------------------------


def bench_tokens(work: Path, seconds: int) -> dict[str, Any]:
    database = f"sqlite:///{work / 'tokens.db'}"
    secret = secret_of(
        cli("client", "add", "bench-portal", "--scope", "partner", "--party", "org-b", database=database)
    )
    port = free_port()
    server = tmfstack_server(database, port, env(work, **UNLIMITED_ANON), work / "tokens.log", core=0)
    try:
        start_server(server)
        basic = base64.b64encode(f"bench-portal:{secret}".encode()).decode()
        url = f"{server.url}/oauth2/token"
        wrk(url, 2, 16, {"Authorization": f"Basic {basic}"}, "token.lua")  # warm-up
        got = wrk(url, seconds, 16, {"Authorization": f"Basic {basic}"}, "token.lua")
    finally:
        server.stop()
    if got["non_2xx_3xx"]:
        raise SystemExit(f"tokens: {got['non_2xx_3xx']} requests were refused")
    return {**got, "target": "≥ 500 tokens/s", "pass": got["rps"] >= 500}


# -- partner-filtered lists ----------------------------------------------------------------


async def seed_orders(database: str, orders: int, partners: int) -> None:
    settings = Settings(database_url=database, public_url="http://127.0.0.1:8080")
    engine = build_engine(settings)
    await engine.open()
    svc = engine.services["/tmf-api/productOrderingManagement/v4"]["productOrder"]
    try:
        for start in range(0, orders, 5000):
            rows = []
            for n in range(start, min(orders, start + 5000)):
                body = {
                    "externalId": f"seed-{n}",
                    "relatedParty": [{"id": f"cust-{n}", "role": "customer", "@referredType": "Individual"}],
                    "productOrderItem": [
                        {"id": "1", "action": "add", "productOffering": {"id": "po-mobile-m"}, "quantity": 1}
                    ],
                }
                doc = svc.prepare_create(body, party=f"org-{n % partners}")
                rows.append((doc["id"], svc.indexed(doc), orjson.dumps(doc)))
            async with engine.store.transaction() as tx:
                for id, idx, raw in rows:
                    await tx.insert(svc.kind, id, idx, raw)
    finally:
        await engine.store.close()


def bench_partner(work: Path, seconds: int, orders: int, partners: int) -> dict[str, Any]:
    database = f"sqlite:///{work / 'partner.db'}"
    started = time.perf_counter()
    asyncio.run(seed_orders(database, orders, partners))
    seeding = time.perf_counter() - started
    cli("client", "add", "ops", "--scope", "operator", database=database)
    cli("client", "add", "reseller", "--scope", "partner", "--party", f"org-{partners // 2}", database=database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tokens = {who: cli("token", who, "--public-url", base, database=database).strip() for who in ("ops", "reseller")}
    # the seeded orders are not for processing: no order manager in this server
    server = tmfstack_server(database, port, env(work, TMFSTACK_WORKERS="0", **UNLIMITED), work / "partner.log", core=0)
    results: dict[str, Any] = {"orders": orders, "partners": partners, "seed_seconds": round(seeding, 1)}
    try:
        start_server(server)
        url = f"{base}{ORDERS}?limit=20"
        for who, label in (("ops", "unfiltered"), ("reseller", "partner")):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            total = subprocess.run(
                ["curl", "-s", "-D", "-", "-o", "/dev/null", "-H", f"Authorization: Bearer {tokens[who]}", url],
                capture_output=True,
                text=True,
            ).stdout
            count = next(int(line.split(":")[1]) for line in total.splitlines() if line.lower().startswith("x-total"))
            wrk(url, 2, 32, headers)
            results[label] = {**wrk(url, seconds, 32, headers), "x_total_count": count}
    finally:
        server.stop()
    ratio = results["partner"]["rps"] / results["unfiltered"]["rps"]
    return {**results, "ratio": round(ratio, 2), "target": "partner ≥ 0.8 x unfiltered", "pass": ratio >= 0.8}


# -- replicas sharing a client's rate ---------------------------------------------------------


def bench_replicas(work: Path, seconds: int, rate: float, burst: int) -> dict[str, Any]:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )
    database = f"sqlite:///{work / 'replicas.db'}"
    cli(
        "client",
        "add",
        "shared",
        "--scope",
        "operator",
        "--rate",
        f"{rate:g}/s",
        "--burst",
        str(burst),
        database=database,
    )
    token = cli("token", "shared", "--public-url", "http://127.0.0.1:8080", database=database).strip()
    extra = {"TMFSTACK_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "TMFSTACK_PUBLIC_URL": "http://127.0.0.1:8080"}
    servers = []
    try:
        time.sleep(0.3)
        for n in range(2):
            servers.append(
                tmfstack_server(database, free_port(), env(work, **extra), work / f"replica-{n}.log", core=0)
            )
        for server in servers:
            start_server(server)
        headers = {"Authorization": f"Bearer {token}"}
        load = [*pin(1), "wrk", "-t1", "-c4", f"-d{seconds}s", "--timeout", "10s", "-H"]
        procs = [
            subprocess.Popen(
                [*load, f"Authorization: {headers['Authorization']}", f"{s.url}{OFFERINGS}?limit=1"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for s in servers
        ]
        outs = [p.communicate()[0] for p in procs]
    finally:
        for server in servers:
            server.stop()
        redis.terminate()
        redis.wait()
    per = [_counts(o) for o in outs]
    sent = sum(p["requests"] for p in per)
    refused = sum(p["non_2xx_3xx"] for p in per)
    admitted = sent - refused
    measured = admitted / seconds
    error = abs(measured - rate) / rate
    return {
        "rate": rate,
        "burst": burst,
        "seconds": seconds,
        "sent": sent,
        "admitted": admitted,
        "admitted_per_replica": [p["requests"] - p["non_2xx_3xx"] for p in per],
        "admitted_per_second": round(measured, 1),
        "deviation": round(error, 3),
        "target": "within 10 % of the rate",
        "pass": error <= 0.10,
    }


def _counts(out: str) -> dict[str, int]:
    done = re.search(r"^\s+(\d+) requests in", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": int(done.group(1)) if done else 0, "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0}


def report(results: dict[str, Any]) -> str:
    lines = ["## tmfstack security bench", "", "| measurement | result | target | result |", "|---|---|---|---|"]
    if "tokens" in results:
        r = results["tokens"]
        lines.append(
            f"| /oauth2/token, 16 connections | {r['rps']:,.0f} tokens/s, p50 {r['p50_ms']:.2f} ms, "
            f"p99 {r['p99_ms']:.2f} ms | {r['target']} | {'PASS' if r['pass'] else 'FAIL'} |"
        )
    if "partner" in results:
        r = results["partner"]
        for label in ("unfiltered", "partner"):
            x = r[label]
            lines.append(
                f"| productOrder?limit=20 as {'the operator' if label == 'unfiltered' else 'one partner'} "
                f"(X-Total-Count {x['x_total_count']:,}) | {x['rps']:,.0f} req/s, p50 {x['p50_ms']:.2f} ms, "
                f"p99 {x['p99_ms']:.2f} ms | | |"
            )
        lines.append(f"| partner / unfiltered | {r['ratio']:.2f} | {r['target']} | {'PASS' if r['pass'] else 'FAIL'} |")
    if "replicas" in results:
        r = results["replicas"]
        lines.append(
            f"| one client, {r['rate']:g}/s burst {r['burst']}, 2 replicas + Redis, {r['seconds']} s | "
            f"{r['admitted_per_second']}/s admitted of {r['sent']:,} sent ({r['admitted_per_replica']} per replica), "
            f"{r['deviation'] * 100:.1f} % off | {r['target']} | {'PASS' if r['pass'] else 'FAIL'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="tokens,partner,replicas")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--replica-seconds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    chosen = set(args.only.split(","))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tmfstack-security-") as tmp:
        work = Path(tmp)
        if "tokens" in chosen:
            results["tokens"] = bench_tokens(work, args.seconds)
            print(f"tokens: {results['tokens']['rps']:,.0f}/s", flush=True)
        if "partner" in chosen:
            results["partner"] = bench_partner(work, args.seconds, args.orders, args.partners)
            print(f"partner: ratio {results['partner']['ratio']}", flush=True)
        if "replicas" in chosen:
            results["replicas"] = bench_replicas(work, args.replica_seconds, args.rate, args.burst)
            print(f"replicas: {results['replicas']['admitted_per_second']}/s", flush=True)
    md = report(results)
    print("\n" + md)
    (RESULTS / "security.md").write_text(md)
    (RESULTS / "security.json").write_text(json.dumps(results, indent=2))
    return 0 if all(r.get("pass") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Qualification benchmark: TMF679 product offering qualifications and TMF645 service qualification checks.

    .venv/bin/python bench/qualification.py                  # 10,000 offerings, 100,000 addresses, 1,000 of each
    .venv/bin/python bench/qualification.py --offerings 1000 --addresses 10000 --requests 300   # quicker
    .venv/bin/python bench/qualification.py --profile        # py-spy the server (numbers not comparable)

A fresh SQLite file gets ``tmfstack demo`` (catalogs, pools, parties, the demo's coverage),
then ``--offerings`` generated TMF620 productOfferings written through the engine's create
path (like ``bench/seed.py``): Launched, sold through some of the demo channels to some market
segments, a fifth of them only in some regions, a few ``requires``/``excludes`` others. The
server (``tmfstack serve``) then runs pinned to core 0 and the client (httpx, asyncio) on core
1: it loads ``--addresses`` covered addresses through ``POST /admin/reference`` in chunks of
``--chunk`` areas (a region hierarchy of Austrian states and towns, one street per 10 house
numbers, FTTH and/or VDSL per address), creates ``--customers`` TMF632 individuals with a
``marketSegment`` characteristic, and measures two loads of ``--requests`` each with
``--concurrency`` requests in flight:

* POQ: ``POST productOfferingQualification`` with ``instantSyncQualification`` true, 5 items
  drawn at random from the generated offerings, a customer, a channel and a top-level
  ``place`` (a covered GeographicAddress, so the place rules look the address up);
* SQ: ``POST checkServiceQualification``, sync, two items (the FTTH internet access and the
  VDSL internet access service specifications) at a random covered address.

Qualifications per second = requests / wall time of the load (a warm-up of ``--warmup``
requests before it is not counted); latency p50/p99 per request, measured by the client.
After each load, ``--serial`` more requests with one in flight give the latency without
queueing (with 16 in flight, p50 is mostly the wait behind the other 15).
Every answer must be 200 and ``done``. Targets (from the issue): POQ p50 ≤ 50 ms and
≥ 100 qualifications/s. Results go to ``bench/results/qualification.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from catalog import OfferingFactory
from common import PREFIX, RESULTS, ROOT, Bench, pct, pin

from tmfstack.bootstrap import build_engine
from tmfstack.demo.reference import REGIONS, SEGMENTS, TECHNOLOGIES
from tmfstack.settings import Settings

PYSPY = ROOT / ".venv" / "bin" / "py-spy"
CATALOG_ROOT = "/tmf-api/productCatalogManagement/v4"
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
CHECK = "/tmf-api/serviceQualificationManagement/v4/checkServiceQualification"
INDIVIDUALS = "/tmf-api/party/v4/individual"
REFERENCE = "/admin/reference"
FTTH_SPEC, VDSL_SPEC = "ss-cfs-internet-access", "ss-cfs-internet-vdsl"  #: demo service specifications
TARGET_RATE, TARGET_P50_MS = 100.0, 50.0
ITEMS = 5

#: the demo catalog's sales channels (``partner`` is one no POQ comes through) and market segments
CHANNELS = ("web", "retail", "telesales", "partner")
OFFER_CHANNELS = ((["web", "retail", "telesales"], 60), (["web", "retail"], 15), (["web"], 10), (["retail"], 5))
OFFER_CHANNELS += ((["partner"], 5), (["telesales", "partner"], 5))
OFFER_SEGMENTS = ((["residential"], 35), (["business"], 15), (["residential", "business"], 40), (["youth"], 5))
OFFER_SEGMENTS += ((["enterprise"], 5),)
CUSTOMER_SEGMENTS = (("residential", 60), ("youth", 10), ("business", 20), ("enterprise", 10))
#: demo product specifications by offering family (the others keep the generator's references)
FAMILY_SPEC = {"Fibre": "ps-fibre-access", "5G Mobile": "ps-mobile-5g", "TV": "ps-tv-addon"}

# -- the coverage data set ---------------------------------------------------------------------

#: (state region, name, towns): the Austrian states, each with a few of its towns
STATES = (
    ("AT-1", "Burgenland", ("Eisenstadt", "Neusiedl am See", "Oberwart", "Mattersburg")),
    ("AT-2", "Kärnten", ("Klagenfurt", "Villach", "Wolfsberg", "Spittal an der Drau", "Feldkirchen")),
    ("AT-3", "Niederösterreich", ("St. Pölten", "Wiener Neustadt", "Baden", "Krems", "Mödling", "Amstetten")),
    ("AT-4", "Oberösterreich", ("Wels", "Steyr", "Leonding", "Traun", "Braunau", "Gmunden")),
    ("AT-5", "Salzburg (state)", ("Hallein", "Saalfelden", "Bischofshofen", "Zell am See")),
    ("AT-6", "Steiermark", ("Leoben", "Kapfenberg", "Bruck an der Mur", "Leibnitz", "Weiz")),
    ("AT-7", "Tirol", ("Innsbruck", "Kufstein", "Telfs", "Hall in Tirol", "Schwaz", "Wörgl")),
    ("AT-8", "Vorarlberg", ("Bregenz", "Dornbirn", "Feldkirch", "Bludenz")),
    ("AT-9", "Wien", ("Wien",)),
)
_STEMS = (
    "Haupt", "Bahnhof", "Kirchen", "Schul", "Linden", "Berg", "Garten", "Feld", "Mühl", "Wald",
    "Rosen", "Birken", "Bach", "Markt", "Sonnen", "Anger", "Kloster", "Brunnen", "Wiesen", "Post",
    "Mozart", "Schiller", "Goethe", "Rathaus", "Park", "Ring", "Stifts", "Dorf", "Schloss", "Au",
)  # fmt: skip
_KINDS = ("straße", "gasse", "weg", "platz")
HOUSES = 10  #: house numbers 1..HOUSES per street: one street row holds 10 areas
STREETS = 20  #: streets per postcode
DEMO_POSTCODES = {"1010", "1060", "1100", "1220", "4020", "8010", "5020"}


def _regions() -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The demo regions plus every state and town (``AT-<n>-<k>``); returns (regions, [(town region, town)])."""
    known = {r["id"] for r in REGIONS}
    regions = list(REGIONS)
    towns = []
    for state, name, cities in STATES:
        if state not in known:
            regions.append({"id": state, "name": name, "parent": "AT"})
        for k, town in enumerate(cities, 1):
            region = f"{state}-{k:02d}"
            regions.append({"id": region, "name": town, "parent": state})
            towns.append((region, town))
    return regions, towns


def _technologies(rng: random.Random) -> list[dict[str, Any]]:
    """What one address gets: fibre (in 60%, a tenth of it still being built), else or also VDSL2."""
    offers = []
    roll = rng.random()
    if roll < 0.6:
        fibre = {"id": "FTTH", "maxDownloadSpeed": rng.choice((300, 500, 1000)), "maxUploadSpeed": 250}
        if rng.random() < 0.1:
            fibre["availableFrom"] = f"2027-{rng.randint(1, 12):02d}-01T00:00:00Z"
        offers.append(fibre)
    if roll > 0.05:  # 5% fibre only
        speed = rng.choice((50, 100, 100, 250))
        offers.append({"id": "VDSL", "maxDownloadSpeed": speed, "maxUploadSpeed": 40 if speed > 50 else 10})
    return offers


def coverage(n: int, seed: int = 645) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(header: regions, segments, technologies; ``n`` address areas; the matching GeographicAddress
    values), plus one postcode-wide VDSL fallback area per postcode at the end of the areas."""
    rng = random.Random(seed)
    regions, towns = _regions()
    header = {"regions": regions, "marketSegments": SEGMENTS, "technologies": TECHNOLOGIES}
    areas: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    postcodes: list[tuple[str, str]] = []
    code = 1000
    while len(areas) < n:
        code += 7
        postcode = str(code)
        if postcode in DEMO_POSTCODES:
            continue
        region, town = towns[len(postcodes) % len(towns)]
        postcodes.append((postcode, region))
        names = rng.sample([f"{s}{k}" for s in _STEMS for k in _KINDS], STREETS)
        for street in names:
            for house in range(1, HOUSES + 1):
                if len(areas) == n:
                    break
                area = {"postcode": postcode, "street": street, "streetNr": str(house), "region": region}
                areas.append({**area, "city": town, "technologies": _technologies(rng)})
                addresses.append(
                    {
                        "role": "installationAddress",
                        "streetName": street,
                        "streetNr": str(house),
                        "postcode": postcode,
                        "city": town,
                        "country": "AT",
                        "@type": "GeographicAddress",
                    }
                )
    fallbacks = [
        {"postcode": p, "region": r, "technologies": [{"id": "VDSL", "maxDownloadSpeed": 30, "maxUploadSpeed": 5}]}
        for p, r in postcodes
    ]
    return header, areas + fallbacks, addresses


async def load_coverage(client: httpx.AsyncClient, header: dict[str, Any], areas: list[Any], chunk: int) -> list[float]:
    """POST the header, then the areas ``chunk`` at a time; returns each POST's seconds."""
    seconds = []
    for start in range(0, len(areas), chunk):
        body = {**(header if start == 0 else {}), "areas": areas[start : start + chunk]}
        t0 = time.perf_counter()
        r = await client.post(REFERENCE, content=orjson.dumps(body), headers={"content-type": "application/json"})
        seconds.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"POST {REFERENCE} answered {r.status_code}: {r.text[:500]}")
    return seconds


# -- the catalog ---------------------------------------------------------------------------------


def _weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def offering_bodies(n: int, regions: list[str], seed: int = 679) -> list[dict[str, Any]]:
    """``n`` create bodies with their ids (kept on create): realistic offerings, all sellable today."""
    rng = random.Random(seed)
    factory = OfferingFactory(seed)
    bodies = []
    for i in range(n):
        body = factory.body()
        family = body["name"].split(" ", 1)[0] if not body["name"].startswith("5G") else "5G Mobile"
        body["id"] = f"{PREFIX}po-{i:06d}"
        body["lifecycleStatus"] = "Launched" if rng.random() < 0.9 else "Active"
        body["isSellable"] = True
        start = f"{rng.randint(2021, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        body["validFor"] = {"startDateTime": start, "endDateTime": f"{rng.randint(2028, 2032)}-12-31T23:59:59Z"}
        if family in FAMILY_SPEC:
            body["productSpecification"] = {"id": FAMILY_SPEC[family], "@referredType": "ProductSpecification"}
        body["channel"] = [{"id": c} for c in _weighted(rng, OFFER_CHANNELS)]
        body["marketSegment"] = [{"id": s} for s in _weighted(rng, OFFER_SEGMENTS)]
        if rng.random() < 0.2:  # sold only in some regions: a state or two, a town, or the country
            body["place"] = [{"id": r, "role": "salesRegion"} for r in rng.sample(regions, rng.randint(1, 2))]
        if i >= 100 and rng.random() < 0.03:  # add-ons: requires one of a few base plans, or excludes a rival
            kind = "requires" if rng.random() < 0.7 else "excludes"
            for j in rng.sample(range(i), rng.randint(1, 3)):
                rel = {"id": f"{PREFIX}po-{j:06d}", "relationshipType": kind, "@referredType": "ProductOffering"}
                body.setdefault("productOfferingRelationship", []).append(rel)
        bodies.append(body)
    return bodies


async def seed_offerings(database: str, public_url: str, bodies: list[dict[str, Any]], batch: int = 5000) -> float:
    """Write the offerings through ``prepare_create`` + ``tx.insert`` (like ``bench/seed.py``); seconds."""
    settings = Settings(database_url=database)
    settings.public_url = public_url
    engine = build_engine(settings)
    svc = engine.services[CATALOG_ROOT]["productOffering"]
    await engine.open()
    started = time.perf_counter()
    try:
        for start in range(0, len(bodies), batch):
            rows = []
            for body in bodies[start : start + batch]:
                doc = svc.prepare_create(body, keep_id=True)
                rows.append((doc["id"], svc.indexed(doc), orjson.dumps(doc)))
            async with engine.store.transaction() as tx:
                for id, idx, raw in rows:
                    await tx.insert(svc.kind, id, idx, raw)
    finally:
        await engine.store.close()
    return time.perf_counter() - started


async def create_customers(client: httpx.AsyncClient, n: int, seed: int = 632) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        segment = _weighted(rng, CUSTOMER_SEGMENTS)
        body = {
            "givenName": f"Bench{i}",
            "familyName": "Customer",
            "status": "validated",
            "partyCharacteristic": [{"name": "marketSegment", "value": segment, "valueType": "string"}],
        }
        r = await client.post(INDIVIDUALS, json=body)
        if r.status_code != 201:
            raise SystemExit(f"POST {INDIVIDUALS} answered {r.status_code}: {r.text[:300]}")
        party = {"id": r.json()["id"], "name": f"Bench{i} Customer", "role": "customer"}
        out.append({**party, "@referredType": "Individual"})
    return out


# -- the loads -----------------------------------------------------------------------------------


def poq_body(rng: random.Random, ids: list[str], customers: list[Any], addresses: list[Any]) -> dict[str, Any]:
    return {
        "instantSyncQualification": True,
        "provideUnavailabilityReason": True,
        "channel": {"id": rng.choice(CHANNELS[:3]), "@referredType": "SalesChannel"},
        "relatedParty": [rng.choice(customers)],
        "place": [rng.choice(addresses)],
        "productOfferingQualificationItem": [
            {"id": str(n), "action": "add", "productOffering": {"id": oid, "@referredType": "ProductOffering"}}
            for n, oid in enumerate(rng.sample(ids, ITEMS), 1)
        ],
        "@type": "ProductOfferingQualification",
    }


def check_body(rng: random.Random, customers: list[Any], addresses: list[Any]) -> dict[str, Any]:
    place = rng.choice(addresses)
    return {
        "instantSyncQualification": True,
        "provideAlternative": False,
        "relatedParty": [rng.choice(customers)],
        "serviceQualificationItem": [
            {"id": str(n), "service": {"serviceSpecification": {"id": spec}, "place": [place], "@type": "Service"}}
            for n, spec in enumerate((FTTH_SPEC, VDSL_SPEC), 1)
        ],
        "@type": "CheckServiceQualification",
    }


async def measure(
    client: httpx.AsyncClient, path: str, n: int, concurrency: int, body: Callable[[], dict[str, Any]], item_key: str
) -> dict[str, Any]:
    """POST ``n`` bodies from ``concurrency`` workers; every answer must be 200 and done."""
    bodies = [orjson.dumps(body()) for _ in range(n)]
    latencies: list[float] = []
    overall: Counter[str] = Counter()
    items: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in bodies:
        queue.put_nowait(raw)

    async def worker() -> None:
        while not queue.empty():
            raw = queue.get_nowait()
            t0 = time.perf_counter()
            r = await client.post(path, content=raw, headers={"content-type": "application/json"})
            latencies.append((time.perf_counter() - t0) * 1000)
            doc = r.json() if r.status_code == 200 else {}
            if doc.get("state") != "done":
                raise SystemExit(f"POST {path} answered {r.status_code}: {r.text[:500]}")
            overall[doc.get("qualificationResult")] += 1
            for item in doc.get(item_key) or []:
                items[item.get("qualificationItemResult") or item.get("qualificationResult")] += 1
                for reason in item.get("eligibilityUnavailabilityReason") or []:
                    reasons[reason.get("code")] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    return {
        "requests": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "p50_ms": statistics.median(latencies),
        "p90_ms": pct(latencies, 0.90),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": max(latencies),
        "results": dict(overall),
        "item_results": dict(items),
        "reasons": dict(reasons.most_common()),
    }


async def drive(bench: Bench, args: argparse.Namespace, ids: list[str], server_pid: int) -> dict[str, Any]:
    rng = random.Random(1)
    header, areas, addresses = coverage(args.addresses)
    limits = httpx.Limits(max_connections=args.concurrency + 2)
    async with httpx.AsyncClient(base_url=bench.base, timeout=120, limits=limits, headers=bench.headers) as client:
        chunks = await load_coverage(client, header, areas, args.chunk)
        print(
            f"coverage: {len(addresses):,} addresses (+{len(areas) - len(addresses)} postcode areas) in"
            f" {len(chunks)} POSTs, {sum(chunks):.1f} s (slowest POST {max(chunks):.1f} s)",
            flush=True,
        )
        t0 = time.perf_counter()
        customers = await create_customers(client, args.customers)
        customer_seconds = time.perf_counter() - t0
        out: dict[str, Any] = {}
        spy = _spy(server_pid, args.profile) if args.profile else None
        try:
            for name, path, key, body in (
                ("poq", POQ, "productOfferingQualificationItem", lambda: poq_body(rng, ids, customers, addresses)),
                ("service_check", CHECK, "serviceQualificationItem", lambda: check_body(rng, customers, addresses)),
            ):
                if args.warmup:
                    await measure(client, path, args.warmup, args.concurrency, body, key)
                out[name] = await measure(client, path, args.requests, args.concurrency, body, key)
                print(f"{name}: {out[name]['per_s']:.0f}/s, p50 {out[name]['p50_ms']:.1f} ms", flush=True)
                if args.serial:  # one request in flight: the service time without queueing
                    out[f"{name}_serial"] = await measure(client, path, args.serial, 1, body, key)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
                _, err = spy.communicate(timeout=120)
                if spy.returncode != 0:
                    print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
    return {
        **out,
        "coverage": {
            "addresses": len(addresses),
            "areas": len(areas),
            "posts": len(chunks),
            "chunk": args.chunk,
            "seconds": sum(chunks),
            "slowest_post_seconds": max(chunks),
        },
        "customers": {"count": len(customers), "seconds": customer_seconds},
    }


def _spy(pid: int, raw: Path) -> subprocess.Popen[bytes] | None:
    if not PYSPY.exists():
        print(f"--profile needs py-spy: {ROOT / '.venv/bin/pip'} install py-spy", file=sys.stderr)
        return None
    cmd = [str(PYSPY), "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", str(raw)]
    spy = subprocess.Popen([*pin(1), *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches
    return spy


def _row(what: str, m: dict[str, Any], target: str, verdict: str) -> str:
    return (
        f"| {what} | {m['per_s']:.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {m['max_ms']:.0f} ms"
        f" | {target} | {verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="areas per POST /admin/reference")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="measured qualifications of each kind")
    parser.add_argument("--warmup", type=int, default=100, help="qualifications before each measured load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serial", type=int, default=200, help="then this many with one in flight (0: none)")
    parser.add_argument("--profile", type=Path, help="py-spy the server during both loads into this raw file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, server log)")
    args = parser.parse_args()
    timings: dict[str, float] = {}
    with Bench("qualification", keep=args.keep) as bench:
        timings["demo_seconds"] = bench.load_demo()
        print(f"demo loaded in {timings['demo_seconds']:.1f} s ({bench.work})", flush=True)
        _, towns = _regions()
        regions = ["AT", "AT-9", "AT-4", "AT-6", "AT-7", "AT-3"] + [r for r, _ in towns[::3]]
        bodies = offering_bodies(args.offerings, regions)
        timings["offerings_seconds"] = asyncio.run(seed_offerings(bench.database, bench.base, bodies))
        print(f"{args.offerings:,} offerings seeded in {timings['offerings_seconds']:.1f} s", flush=True)
        server = bench.serve("--log-level", "warning")
        result = asyncio.run(drive(bench, args, [b["id"] for b in bodies], server.pid))
        db_bytes = sum(p.stat().st_size for p in bench.work.glob("qualification.db*"))
    result = {
        "offerings": args.offerings,
        "items_per_poq": ITEMS,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "cores": os.cpu_count(),
        **timings,
        "db_bytes": db_bytes,
        **result,
    }
    poq, check = result["poq"], result["service_check"]
    ok = poq["per_s"] >= TARGET_RATE and poq["p50_ms"] <= TARGET_P50_MS
    cov = result["coverage"]
    print(
        f"\n## Qualification: {args.offerings:,} offerings, {cov['addresses']:,} covered addresses,"
        f" {args.requests} requests of each kind, {args.concurrency} concurrent clients\n"
    )
    print("| load | qualifications/s | p50 | p99 | max | target | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    target = f"≥ {TARGET_RATE:.0f}/s, p50 ≤ {TARGET_P50_MS:.0f} ms"
    print(_row(f"TMF679 POQ, {ITEMS} items, sync", poq, target, "PASS" if ok else "FAIL"))
    print(_row("TMF645 check, 2 items (FTTH, VDSL), sync", check, "", ""))
    for name, what in (("poq", "TMF679 POQ"), ("service_check", "TMF645 check")):
        if f"{name}_serial" in result:
            print(_row(f"{what}, one request in flight", result[f"{name}_serial"], "", ""))
    print(f"\nrate target (≥ {TARGET_RATE:.0f}/s): {'PASS' if poq['per_s'] >= TARGET_RATE else 'FAIL'}")
    print(f"p50 target (≤ {TARGET_P50_MS:.0f} ms): {'PASS' if poq['p50_ms'] <= TARGET_P50_MS else 'FAIL'}")
    print(
        f"\nsetup: demo {result['demo_seconds']:.1f} s,"
        f" {args.offerings:,} offerings {result['offerings_seconds']:.1f} s,"
        f" coverage {cov['addresses']:,} addresses in {cov['posts']} POSTs {cov['seconds']:.1f} s,"
        f" {result['customers']['count']} customers {result['customers']['seconds']:.1f} s;"
        f" database {db_bytes / 1e6:.0f} MB; {result['cores']} cores"
    )
    for name in ("poq", "service_check"):
        m = result[name]
        print(f"{name}: results {m['results']}, items {m['item_results']}, reasons {m['reasons']}")
    if args.profile:
        print("\n(profiled run: py-spy slows the server, the numbers above are not the measured ones)")
        if args.profile.exists():
            from profile_summary import summarize

            print(summarize(args.profile))
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "qualification.json").write_text(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Nothing a request triggers holds the event loop: /health stays fast while a hostile client
sends the worst requests it can.

The server is uvicorn in this test's own event loop (a real socket on a free port), so the probe
measures the very loop the server runs. 10,000 offerings are loaded, then seven hostile
streams run at once: a regex that matches nothing over every row, the most filters with the
longest OR lists outside the indexed columns, a sort outside them with the largest page and
fields list, bodies of the largest size, bodies of the largest depth (and deeper), orders of
the most items (validated by the order manager within the request: strict orders), nesting
beyond the JSON parser.
Meanwhile /health is asked every 10 ms: its 99th percentile must stay under 100 ms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from typing import Any

import httpx
import uvicorn

from tests.support.servers import free_port
from tmfstack.limits import Limits
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

CATALOG = "/tmf-api/productCatalogManagement/v4"
OFFERINGS = f"{CATALOG}/productOffering"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
ROWS = 10_000
SECONDS = 12.0
L = Limits()


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def _worst_filters() -> str:
    values = ",".join(f"no-{i}" for i in range(L.or_values))
    params = [f"description={values}"] + [f"x{i}.y={values}" for i in range(L.filters - 1)]
    return "&".join(params) + f"&limit={Settings().max_limit}"


_FIELDS = ",".join(["name", "description"] + [f"f{i}" for i in range(L.fields - 2)])
#: (method, path, body or raw bytes, statuses it may answer)
ATTACKS: list[tuple[str, str, Any, set[int]]] = [
    ("GET", f"{OFFERINGS}?description*=^zz.*qq$&limit=1000", None, {200}),
    ("GET", f"{OFFERINGS}?{_worst_filters()}", None, {200}),
    ("GET", f"{OFFERINGS}?sort=-description,version&limit=1000&fields={_FIELDS}", None, {206, 200}),
    ("POST", OFFERINGS, b'{"name": "big", "description": "' + b"x" * (L.body - 64) + b'"}', {201}),
    ("POST", OFFERINGS, {"name": "deep", "extra": _nest(L.depth)}, {201}),
    (
        "POST",
        ORDERS,
        {
            "productOrderItem": [
                {"id": str(i), "action": "add", "productOffering": {"id": f"po-{i}"}} for i in range(L.order_items)
            ],
            "relatedParty": [{"id": "c-1", "role": "customer", "@referredType": "Individual"}],
        },
        {422},  # every item's offering is unknown: all of them are checked
    ),
    ("POST", OFFERINGS, b"[" * 5000 + b"]" * 5000, {400}),
]


async def _load(app: Any) -> None:
    """10,000 offerings written through the service (validated, indexed) in units of 500."""
    svc = app.state.engine.services[CATALOG]["productOffering"]
    for start in range(0, ROWS, 500):
        async with app.state.engine.unit() as unit:
            for i in range(start, start + 500):
                body = {"name": f"offering {i}", "description": f"plan number {i} " * 8, "version": str(i % 7)}
                await svc.insert(unit, svc.prepare_create(body))


async def _attack(client: httpx.AsyncClient, attack: tuple[str, str, Any, set[int]], stop: asyncio.Event) -> int:
    method, path, body, statuses = attack
    sent = 0
    while not stop.is_set():
        if isinstance(body, bytes):
            r = await client.request(method, path, content=body, headers={"content-type": "application/json"})
        else:
            r = await client.request(method, path, json=body)
        assert r.status_code in statuses, (method, path[:80], r.status_code, r.text[:200])
        sent += 1
    return sent


async def _scenario(settings: Settings) -> tuple[list[float], list[int]]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        await _load(app)
        base = f"http://127.0.0.1:{port}"
        timeout = httpx.Timeout(120.0)
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as probe:
            hostile = [httpx.AsyncClient(base_url=base, timeout=timeout) for _ in ATTACKS]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_attack(c, a, stop)) for c, a in zip(hostile, ATTACKS, strict=True)]
            await asyncio.sleep(0.5)  # every stream under way
            latencies: list[float] = []
            end = time.perf_counter() + SECONDS
            while time.perf_counter() < end:
                started = time.perf_counter()
                r = await probe.get("/health")
                latencies.append(time.perf_counter() - started)
                assert r.status_code == 200
                await asyncio.sleep(0.01)
            stop.set()
            sent = await asyncio.gather(*tasks)
            for c in hostile:
                await c.aclose()
        return latencies, list(sent)
    finally:
        server.should_exit = True
        await serving


def test_health_stays_fast_under_the_worst_requests(settings: Settings) -> None:
    settings = dataclasses.replace(settings, auth=False, dispatcher=False, workers=False, strict_orders=True)
    latencies, sent = asyncio.run(_scenario(settings))
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    report = (
        f"/health over {len(latencies)} probes: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms; hostile requests served: {sent}"
    )
    print(report)
    assert all(n > 0 for n in sent), report  # every attack really ran during the probe
    assert p99 < 0.100, report

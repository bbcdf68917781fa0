"""What the end-to-end ordering benchmarks (``bench/orders.py``, ``bench/chain.py``) share.

A work directory with a fresh SQLite file and ``tmfstack demo`` loaded, ``tmfstack serve``
pinned to core 0 (``Bench``; tests/support/servers.py runs it), and the client side on core 1: POST every order from a
queue shared by ``concurrency`` workers, poll the ``state=completed`` count of the bench
orders until all are done, then page their ``orderDate``/``completionDate`` for the lead
times (``place_orders``).

Every bench order has ``externalId`` (and customer id) ``PREFIX + number``, so the counts
and pages filter on ``MINE`` and never see the demo's own orders.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# the one server-process helper of the tests and the benchmarks (bench runs from the repository, never alone)
sys.path.insert(0, str(ROOT))

from tests.support.servers import TMFSTACK, ServerFailed, ServerProcess, free_port, serve_command  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PRODUCTS = "/tmf-api/productInventory/v4/product"

PREFIX = "bench-"  #: customer ids and externalIds of the bench orders are PREFIX + order number
MINE = {"externalId.regex": f"^{PREFIX}"}  #: the bench orders, not the demo's
NOT_COMPLETED = "rejected,failed,partial"  #: order states that end the poll with an error

SERVER_CORE, CLIENT_CORE = 0, 1


def pin(core: int) -> list[str]:
    """``taskset`` prefix running a command on ``core`` (empty without taskset or a second core)."""
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def pin_self(core: int) -> None:
    """Move this process (the client) to ``core`` when servers are pinned."""
    if pin(core):
        os.sched_setaffinity(0, {core})


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- server ------------------------------------------------------------------------------


def tmfstack_server(database: str, port: int, env: dict[str, str], log: Path, *args: str, core: int) -> ServerProcess:
    """``tmfstack serve`` pinned to ``core``, logging to ``log``; ``start`` it (ready once ``/health`` answers 200)."""
    return ServerProcess(serve_command(port, database, *args, prefix=pin(core)), port, log, env, database=database)


def start_server(server: ServerProcess, timeout: float = 60.0) -> None:
    """Start ``server``; exit the benchmark with its log's tail when it does not come up."""
    try:
        server.start(timeout)
    except ServerFailed as exc:
        raise SystemExit(f"tmfstack serve: {exc}") from None


class Bench:
    """A work directory ``tmfstack-{name}-*`` with ``{name}.db``, the demo and one server; removed on exit
    unless ``keep``."""

    def __init__(self, name: str, keep: bool = False) -> None:
        self.keep = keep
        self.work = Path(tempfile.mkdtemp(prefix=f"tmfstack-{name}-"))
        self.database = f"sqlite:///{self.work / f'{name}.db'}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "TMFSTACK_PUBLIC_URL": self.base}
        for name in ("TMFSTACK_DATABASE_URL", "TMFSTACK_AUTH"):
            self.env.pop(name, None)  # the server runs as users run it: authentication on
        self.server: ServerProcess | None = None
        #: what every bench request carries: the bench client's bearer token (set by ``serve``)
        self.headers: dict[str, str] = {}

    def load_demo(self, pool_size: int | None = None) -> float:
        """``tmfstack demo`` into the database; returns the seconds it took."""
        started = time.perf_counter()
        cmd = [str(TMFSTACK), "demo", "--database", self.database]
        if pool_size is not None:
            cmd += ["--pool-size", str(pool_size)]
        subprocess.run(cmd, check=True, env=self.env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    def authorize(self) -> dict[str, str]:
        """Register the bench's operator client (with a rate it cannot reach) and get its token."""
        base = [str(TMFSTACK), "--database", self.database]
        add = ["client", "add", "bench", "--scope", "operator", "--rate", "10000000/s", "--burst", "10000000"]
        subprocess.run([base[0], *add, *base[1:]], env=self.env, capture_output=True, text=True)  # may exist
        done = subprocess.run(
            [base[0], "token", "bench", *base[1:]], env=self.env, capture_output=True, text=True, check=True
        )
        self.headers = {"Authorization": f"Bearer {done.stdout.strip()}"}
        return self.headers

    def serve(self, *args: str) -> ServerProcess:
        """Start the server on SERVER_CORE, wait until it is ready, then move this process to CLIENT_CORE."""
        self.authorize()
        log = self.work / "server.log"
        self.server = tmfstack_server(self.database, self.port, self.env, log, *args, core=SERVER_CORE)
        start_server(self.server)
        pin_self(CLIENT_CORE)
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Bench:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


# -- client ------------------------------------------------------------------------------


async def count(client: httpx.AsyncClient, path: str, **params: str) -> int:
    """``X-Total-Count`` of ``path`` filtered by ``params``."""
    r = await client.get(path, params={**params, "limit": 1, "fields": "id"})
    if r.status_code not in (200, 206):
        raise SystemExit(f"GET {path} {params} answered {r.status_code}: {r.text[:300]}")
    return int(r.headers["X-Total-Count"])


async def post_all(
    client: httpx.AsyncClient, path: str, n: int, concurrency: int, body: Callable[[int], dict[str, Any]]
) -> None:
    """POST ``body(i)`` for i in 0..n-1 from ``concurrency`` workers sharing one queue; each must get 201."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            r = await client.post(path, json=body(i))
            if r.status_code != 201:
                raise SystemExit(f"POST answered {r.status_code}: {r.text[:300]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def wait_completed(client: httpx.AsyncClient, n: int, failed: str = NOT_COMPLETED) -> None:
    """Poll until ``n`` bench orders are completed; stop with an error once one is in a ``failed`` state."""
    while True:
        done = await count(client, ORDERS, state="completed", **MINE)
        if await count(client, ORDERS, state=failed, **MINE):
            r = await client.get(ORDERS, params={"state": failed, "limit": 3, **MINE})
            raise SystemExit("some orders did not complete: " + r.text[:1500])
        if done >= n:
            return
        await asyncio.sleep(0.02)


async def lead_times(client: httpx.AsyncClient, n: int) -> list[float]:
    """``completionDate - orderDate`` (ms, server stamps) of the ``n`` bench orders, 1,000 per page."""
    leads: list[float] = []
    for offset in range(0, n, 1000):
        params = {"fields": "orderDate,completionDate", "offset": offset, "limit": 1000, **MINE}
        r = await client.get(ORDERS, params=params)
        leads += [(epoch(o["completionDate"]) - epoch(o["orderDate"])) * 1000 for o in r.json()]
    return leads


@dataclass
class Run:
    """One load: clock readings (``time.perf_counter``) and the lead times of its orders."""

    orders: int
    start: float
    posted: float
    finished: float
    leads: list[float]

    def timing(self) -> dict[str, float]:
        total = self.finished - self.start
        return {
            "post_seconds": self.posted - self.start,
            "total_seconds": total,
            "orders_per_s": self.orders / total,
            "lead_p50_ms": statistics.median(self.leads),
            "lead_p99_ms": pct(self.leads, 0.99),
        }


async def place_orders(
    client: httpx.AsyncClient,
    n: int,
    concurrency: int,
    body: Callable[[int], dict[str, Any]],
    failed: str = NOT_COMPLETED,
) -> Run:
    """POST ``n`` orders, wait until all are completed, read their lead times."""
    start = time.perf_counter()
    await post_all(client, ORDERS, n, concurrency, body)
    posted = time.perf_counter()
    await wait_completed(client, n, failed)
    finished = time.perf_counter()
    return Run(n, start, posted, finished, await lead_times(client, n))

"""Seed a SQLite database with N product offerings through the engine's own create path.

Every document is built by ``ResourceService.prepare_create`` (contract validation, lifecycle,
server-owned attributes, ``lastUpdate``) and written with ``tx.insert`` in batches, one store
transaction per batch, exactly as the store writes a created resource (counters included).
The create *events* are not written: seeding stands for a catalog that already exists.

    .venv/bin/python bench/seed.py --offerings 100000 --out bench/results/seed-100000.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog import OfferingFactory

from tmfstack.bootstrap import build_engine
from tmfstack.settings import Settings

API_ROOT = "/tmf-api/productCatalogManagement/v4"
ID_SAMPLE = 100_000  #: ids written to the id file the Lua scripts pick from


def _unlink(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def seed(path: Path, n: int, batch: int = 5000, progress: bool = True) -> dict[str, float]:
    """Write ``n`` offerings into a new database at ``path``; return timings and sizes."""
    _unlink(path)
    settings = Settings(database_url=f"sqlite:///{path}")
    settings.public_url = "http://127.0.0.1:8080"
    engine = build_engine(settings)
    svc = engine.services[API_ROOT]["productOffering"]
    factory = OfferingFactory()
    ids: list[str] = []
    total_bytes = 0
    build = write = 0.0
    await engine.open()
    started = time.perf_counter()
    try:
        done = 0
        while done < n:
            size = min(batch, n - done)
            t0 = time.perf_counter()
            rows = []
            for _ in range(size):
                doc = svc.prepare_create(factory.body())
                raw = orjson.dumps(doc)
                total_bytes += len(raw)
                rows.append((doc["id"], svc.indexed(doc), raw))
            t1 = time.perf_counter()
            async with engine.store.transaction() as tx:
                for id, idx, raw in rows:
                    await tx.insert(svc.kind, id, idx, raw)
            t2 = time.perf_counter()
            build, write = build + t1 - t0, write + t2 - t1
            ids.extend(r[0] for r in rows)
            done += size
            if progress and (done % (batch * 20) == 0 or done == n):
                rate = done / (t2 - started)
                print(f"  seeded {done:>9,}/{n:,}  {rate:,.0f} docs/s", file=sys.stderr, flush=True)
    finally:
        await engine.store.close()
    elapsed = time.perf_counter() - started
    sample = ids if len(ids) <= ID_SAMPLE else random.Random(7).sample(ids, ID_SAMPLE)
    Path(f"{path}.ids").write_text("\n".join(sample) + "\n")
    return {
        "offerings": n,
        "seconds": round(elapsed, 2),
        "build_seconds": round(build, 2),
        "write_seconds": round(write, 2),
        "avg_doc_bytes": round(total_bytes / max(n, 1)),
        "db_bytes": os.path.getsize(path),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offerings", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(seed(args.out, args.offerings, args.batch))).decode())


if __name__ == "__main__":
    main()

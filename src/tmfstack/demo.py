"""``tmfstack demo``: load the demo catalog through an importJob, the API's own code path."""

from __future__ import annotations

import asyncio
from importlib import resources

import orjson

from .engine.registry import Engine

DEMO_FILES = {"/tmf-api/productCatalogManagement/v4": "tmfstack.apis.catalog"}


async def load_demo(engine: Engine) -> list[str]:
    """Import every demo file and wait for the jobs; returns one summary line per job."""
    lines = []
    for root, package in DEMO_FILES.items():
        path = resources.files(package).joinpath("demo_catalog.json")
        url = f"file://{path}"
        jobs = engine.services[root]["importJob"]
        job, _, _ = await jobs.create({"url": url, "contentType": "application/json"})
        while True:
            row = await jobs.get(job["id"])
            current = orjson.loads(row.doc)
            if current["status"] in ("Succeeded", "Failed"):
                break
            await asyncio.sleep(0.05)
        lines.append(f"{root}: {current['status']} ({current.get('errorLog', '').splitlines()[0]})")
    return lines

"""Memory stays bounded under many concurrent bodies of the largest size.

A real ``tmfstack serve`` process (SQLite or PostgreSQL, as the suite runs); its peak resident
set (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` after a warm-up that also fills the
store's own cache: SQLite's page cache is 64 MiB by design) is compared with its resident set
before the attack. 32 clients at once send bodies of the largest size: creates
with and without Content-Length (chunked), PATCHes, hub registrations, bodies over the limit
(refused while streaming) and of the largest depth. Without admission of large bodies, each in
flight holds its bytes, its parsed value and its stored document (~4 MB for 1 MiB).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.servers import TMFSTACK, free_port
from tmfstack.limits import Limits

CATALOG = "/tmf-api/productCatalogManagement/v4"
OFFERINGS = f"{CATALOG}/productOffering"
L = Limits()
CLIENTS = 32
GROWTH = 50 << 20
#: documents of 1 MiB written before the measurement: the store's own cache is then at its size
WARM = 96


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "TMFSTACK_AUTH": "off",
        "TMFSTACK_WORKERS": "0",
        "TMFSTACK_DISPATCHER": "0",
        "TMFSTACK_EXPORT_DIR": str(tmp_path / "exports"),
        "TMFSTACK_IMPORT_DIR": str(tmp_path),
    }
    cmd = [str(TMFSTACK), "serve", "--host", "127.0.0.1", "--port", str(port), "--database", database_url]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _big(size: int) -> bytes:
    prefix, suffix = b'{"name": "big", "description": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 64 << 10):
        yield body[start : start + (64 << 10)]


def _client_round(url: str, n: int) -> list[int]:
    json = {"content-type": "application/json"}
    statuses = []
    with httpx.Client(base_url=url, timeout=120) as c:
        created = c.post(OFFERINGS, content=_big(L.body), headers=json)
        statuses.append(created.status_code)
        statuses.append(c.post(OFFERINGS, content=_chunks(_big(L.body)), headers=json).status_code)
        statuses.append(c.post(OFFERINGS, content=_chunks(_big(4 * L.body)), headers=json).status_code)
        statuses.append(c.post(OFFERINGS, content=_big(L.body + 1), headers=json).status_code)
        small = c.post(OFFERINGS, json={"name": f"small {n}"}).json()
        patch = _big(L.body - 100)
        statuses.append(c.patch(f"{OFFERINGS}/{small['id']}", content=patch, headers=json).status_code)
        deep = b'{"name": "d", "x": ' + b"[" * (L.depth - 1) + b"]" * (L.depth - 1) + b"}"
        statuses.append(c.post(OFFERINGS, content=deep, headers=json).status_code)
        hub = b'{"callback": "http://127.0.0.1:9/x", "query": "' + b"a" * (L.body - 64) + b'"}'
        statuses.append(c.post(f"{CATALOG}/hub", content=hub, headers=json).status_code)
    return statuses


def test_many_concurrent_largest_bodies_keep_memory_bounded(server: tuple[str, int]) -> None:
    url, pid = server
    for status in _client_round(url, -1):  # warm-up: every path once, allocator arenas in place
        assert status < 500
    with httpx.Client(base_url=url, timeout=120) as c:  # ... and SQLite's page cache (64 MiB) full
        for _ in range(WARM):
            assert c.post(OFFERINGS, content=_big(L.body), headers={"content-type": "application/json"}).is_success
    time.sleep(0.5)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak is measured from here
    before = _status(pid, "VmRSS")
    with ThreadPoolExecutor(CLIENTS) as pool:
        rounds = list(pool.map(lambda n: _client_round(url, n), range(CLIENTS)))
    peak = _status(pid, "VmHWM")
    growth = peak - before
    report = f"RSS before {before >> 20} MiB, peak {peak >> 20} MiB, growth {growth / (1 << 20):.1f} MiB"
    print(report)
    for statuses in rounds:  # created, created (chunked), 413 (chunked), 413, patched, created, 400 (query)
        assert statuses[:6] == [201, 201, 413, 413, 200, 201], statuses
        assert statuses[6] == 400, statuses
    assert growth < GROWTH, report

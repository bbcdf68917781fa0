"""``Idempotency-Key`` across SIGKILLs: a client that retries every POST that got no answer, with
its key, makes one order per key however often the server dies under it.

A real ``tmfstack serve`` on a SQLite file takes orders from a few threads, each order with its own
key; it is killed twice while they come in and restarted on the same file. A POST that got no
answer (the server died under it, before or after its commit) is sent again after the restart,
with the same key and body, until it is answered. An answer lost after the commit is rare at a
kill (the window is short), so the first POST of every fifth order also gives up waiting for its
answer at once, as a client whose connection drops would, and is sent again: its order is
committed, and the retry is answered from the stored answer. At the end every key was answered
201, and the server holds exactly one order per key: the one the answers name (0 duplicates).
The order manager is off (``TMFSTACK_WORKERS=0``): what is proven is the taking of orders.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.ordering import ORDERS, add, order
from tests.support.servers import TMFSTACK, ServerProcess, crash_server

ORDERS_N = 80
THREADS = 4
KEY = "Idempotency-Key"

pytestmark = pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = crash_server(tmp_path / "orders.db", tmp_path / "server.log", {"TMFSTACK_WORKERS": "0"})
    try:
        yield srv
    finally:
        srv.stop()


def body(n: int) -> dict[str, Any]:
    return order(add("fibre", "po-fibre-300"), customer=f"idem-{n}")


class Retrier:
    """Posts order ``n`` with key ``order-<n>`` from a few threads; a POST without an answer goes
    back to the front of the queue, to be sent again (same key, same body) by the next run."""

    def __init__(self, count: int) -> None:
        self.waiting: deque[int] = deque(range(count))
        self.answered: dict[int, httpx.Response] = {}
        self.unanswered: Counter[int] = Counter()  #: POSTs that got no answer, per order
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def post(self, server: ServerProcess) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while True:
                with self.lock:
                    if not self.waiting:
                        return
                    n = self.waiting.popleft()
                dropped = n % 5 == 0 and n not in self.unanswered  # its answer is not waited for
                timeout = httpx.Timeout(10, read=0.001) if dropped else httpx.USE_CLIENT_DEFAULT
                try:
                    r = http.post(ORDERS, json=body(n), headers={KEY: f"order-{n}"}, timeout=timeout)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.waiting.appendleft(n)
                        self.unanswered[n] += 1
                    if dropped and isinstance(exc, httpx.ReadTimeout):
                        continue
                    return  # the server is gone: the next run sends it again
                with self.lock:
                    if r.status_code == 201:
                        self.answered[n] = r
                    else:
                        self.errors.append(f"order {n}: {r.status_code} {r.text[:300]}")
                        return

    def run(self, server: ServerProcess, kill_at: int | None = None) -> None:
        """Post until the queue is empty, or SIGKILL the server once ``kill_at`` orders are answered."""
        threads = [threading.Thread(target=self.post, args=(server,), daemon=True) for _ in range(THREADS)]
        for t in threads:
            t.start()
        if kill_at is not None:
            deadline = time.monotonic() + 30
            while len(self.answered) < kill_at:
                assert not self.errors, self.errors
                assert time.monotonic() < deadline, f"only {len(self.answered)} orders answered"
                time.sleep(0.002)
            server.kill9()
        for t in threads:
            t.join(timeout=20)
        assert not any(t.is_alive() for t in threads)
        assert not self.errors, self.errors


def test_retried_posts_make_one_order_per_key_across_kill_9(server: ServerProcess) -> None:
    server.start()
    client = Retrier(ORDERS_N)
    client.run(server, kill_at=25)
    server.start()
    client.run(server, kill_at=50)
    server.start()
    client.run(server)
    assert not client.waiting and len(client.answered) == ORDERS_N
    assert client.unanswered, "no POST was in flight at a kill: nothing was retried"
    replays = sum(r.headers.get("idempotency-replayed") == "true" for r in client.answered.values())
    assert replays, "no retry was answered from a stored answer"

    with server.client() as http:
        r = http.get(ORDERS, params={"limit": 1000})
        assert r.status_code == 200, r.text
        stored = r.json()
        # a replay after the restart answers what the first, unanswered POST committed
        for n, answer in client.answered.items():
            again = http.post(ORDERS, json=body(n), headers={KEY: f"order-{n}"})
            assert again.status_code == 201 and again.headers["idempotency-replayed"] == "true"
            assert again.json()["id"] == answer.json()["id"]
    per_customer = Counter(o["relatedParty"][0]["id"] for o in stored)
    duplicates = {c: k for c, k in per_customer.items() if k > 1}
    assert not duplicates, f"orders taken twice: {duplicates} ({replays} replays)"
    assert {o["id"] for o in stored} == {r.json()["id"] for r in client.answered.values()}
    assert len(stored) == ORDERS_N

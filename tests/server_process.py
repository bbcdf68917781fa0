"""A real ``tmfstack serve`` process for durability tests: start, SIGKILL, restart on one database.

``Poster`` POSTs orders to it from a few threads until the numbers run out or the server dies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from ordering_helpers import ORDERS

TMFSTACK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "tmfstack"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``tmfstack serve`` process at a time, on a fixed port and SQLite file."""

    def __init__(self, db: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.db, self.log = db, log
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {**os.environ, "TMFSTACK_EXPORT_DIR": str(self.db.parent / "exports"), **self.extra_env}
        for name in ("TMFSTACK_DATABASE_URL", "TMFSTACK_STRICT_ORDERS"):
            env.pop(name, None)
        return env

    def load_demo(self) -> None:
        done = subprocess.run(
            [str(TMFSTACK), "demo", "--database", f"sqlite:///{self.db}"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "Succeeded" in done.stdout, done.stdout + done.stderr

    def start(self, timeout: float = 20.0) -> None:
        assert self.proc is None
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== start {self.starts} ====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [
                    str(TMFSTACK),
                    "serve",
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--database", f"sqlite:///{self.db}", "--log-level", "warning"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no /health 200 within {timeout}s:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.05)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self.proc = None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


class Poster:
    """POSTs ``body(n)`` to ``path`` from a few threads until the numbers run out or the server dies under them.

    The numbers come from one iterator shared by every run, so a run after a restart goes on
    where the killed one stopped (an order whose POST died with the server is not sent again:
    it may or may not have been committed). ``http_timeout`` bounds one request,
    ``join_timeout`` the wait for each thread to end, ``kill_timeout`` the wait in ``kill_after``.
    """

    THREADS = 4

    def __init__(
        self,
        server: Server,
        numbers: Iterator[int],
        body: Callable[[int], dict[str, Any]],
        *,
        path: str = ORDERS,
        http_timeout: float = 10.0,
        join_timeout: float = 15.0,
        kill_timeout: float = 20.0,
    ) -> None:
        self.server, self.numbers, self.body, self.path = server, numbers, body, path
        self.http_timeout, self.join_timeout, self.kill_timeout = http_timeout, join_timeout, kill_timeout
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(self.THREADS)]

    def next_number(self) -> int | None:
        with self.lock:
            return next(self.numbers, None)

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=self.http_timeout) as http:
            while (n := self.next_number()) is not None:
                try:
                    r = http.post(self.path, json=self.body(n))
                except httpx.HTTPError:
                    return  # killed under this request
                if r.status_code != 201:
                    self.errors.append(f"{r.status_code}: {r.text[:300]}")
                    return
                with self.lock:
                    self.acknowledged[r.json()["id"]] = r.json()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=self.join_timeout)
        assert not any(t.is_alive() for t in self.threads)
        assert not self.errors, self.errors

    def finish(self) -> None:
        """Post the rest (no kill)."""
        for t in self.threads:
            t.start()
        self.join()

    def kill_after(self, acknowledged: int, timeout: float | None = None) -> None:
        """Start posting; SIGKILL the server once ``acknowledged`` orders got their 201 (within ``timeout``,
        default ``kill_timeout``)."""
        timeout = self.kill_timeout if timeout is None else timeout
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + timeout
        while self.count() < acknowledged:
            assert not self.errors, self.errors
            assert any(t.is_alive() for t in self.threads), "posters stopped early"
            assert time.monotonic() < deadline, f"only {self.count()} orders acknowledged in {timeout}s"
            time.sleep(0.002)
        self.server.kill9()
        self.join()

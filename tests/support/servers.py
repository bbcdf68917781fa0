"""Real server processes: ``tmfstack serve`` (or any HTTP server) started, SIGKILLed, restarted on one database.

``ServerProcess`` is the one server-process helper of the tests and the benchmarks (bench/common.py and
bench/run.py import it): start waits until ``ready_path`` answers 200, ``kill9`` kills it without warning,
``stop`` ends it politely, and ``start`` again uses the same port and log (appended, one marker a start).
``crash_server`` is the durability tests' server on a SQLite file; ``Poster`` POSTs orders to it from a few
threads until the numbers run out or the server dies. No pytest here: bench runs without it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
TMFSTACK = ROOT / ".venv" / "bin" / "tmfstack"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


class ServerFailed(Exception):
    """The server exited or did not answer in time; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command(port: int, database: str, *args: str, prefix: Sequence[str] = ()) -> list[str]:
    """``tmfstack serve`` on 127.0.0.1:``port`` over ``database``, after ``prefix`` (e.g. a ``taskset``)."""
    return [*prefix, str(TMFSTACK), "serve", "--host", "127.0.0.1", "--port", str(port), "--database", database, *args]


class ServerProcess:
    """One server process at a time on ``port``, its output in ``log`` (emptied here, appended to on each start)."""

    def __init__(
        self,
        command: Sequence[str],
        port: int,
        log: Path,
        env: Mapping[str, str] | None = None,
        *,
        ready_path: str = "/health",
        cwd: Path | None = None,
        database: str = "",
    ) -> None:
        self.command, self.port, self.log = list(command), port, log
        self.env = dict(os.environ if env is None else env)
        self.ready_path, self.cwd, self.database = ready_path, cwd, database
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.startup = 0.0  #: seconds the last start took until ready
        log.write_bytes(b"")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # a taskset prefix execs the server: same pid

    @property
    def db(self) -> Path:
        """The SQLite file of the database."""
        assert self.database.startswith("sqlite:///"), self.database
        return Path(self.database.removeprefix("sqlite:///"))

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until ``ready_path`` answers 200; ServerFailed (server stopped) if not."""
        assert self.proc is None
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== start {self.starts} ====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd, start_new_session=True
            )
        started = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise ServerFailed(f"server exited with {code}:\n{self.tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code == 200:
                    self.startup = time.monotonic() - started
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > timeout:
                self.stop()
                raise ServerFailed(f"no {self.ready_path} 200 within {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush; ``start`` may follow."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self.proc = None

    def stop(self) -> None:
        """Terminate the server, killing it if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def load_demo(self) -> None:
        """``tmfstack demo`` into the server's database."""
        done = subprocess.run(
            [str(TMFSTACK), "demo", "--database", self.database],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "Succeeded" in done.stdout, done.stdout + done.stderr


def crash_server(db: Path, log: Path, env: Mapping[str, str] | None = None) -> ServerProcess:
    """The durability tests' ``tmfstack serve`` on the SQLite file ``db`` and a free port, started by the test."""
    full = {**os.environ, "TMFSTACK_EXPORT_DIR": str(db.parent / "exports"), **(env or {})}
    for name in ("TMFSTACK_DATABASE_URL", "TMFSTACK_STRICT_ORDERS"):
        full.pop(name, None)
    port, database = free_port(), f"sqlite:///{db}"
    command = serve_command(port, database, "--log-level", "warning")
    return ServerProcess(command, port, log, full, database=database)


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
        server: ServerProcess,
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

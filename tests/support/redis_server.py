"""Throwaway servers for tests that need a real one: a private redis-server.

A test module loads these fixtures with ``pytest_plugins = ["tests.support.redis_server"]`` (rather than importing
them, so that pytest rewrites the asserts here too):

    redis_server     session-wide server on 127.0.0.1: its URL ``redis://127.0.0.1:PORT/0``
    redis_url        the same URL, the server emptied (FLUSHALL) for this test
    redis_process    a server of this test's own, which the test may stop and start again
    closed_redis_url a URL where nothing listens

A missing ``redis-server`` program skips the tests that need one, unless
``TMFSTACK_REQUIRE_SERVICES=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.servers import free_port

REQUIRED = os.environ.get("TMFSTACK_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where the services are required."""
    if REQUIRED:
        pytest.fail(f"{reason} (TMFSTACK_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def redis_command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """One command in RESP over a fresh connection: the reply's first line (no client library needed)."""
    request = f"*{len(args)}\r\n".encode() + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg.encode()), arg.encode()) for arg in args
    )
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


class RedisProcess:
    """A redis-server on 127.0.0.1 without persistence, in its own folder; ``start`` waits for PING."""

    def __init__(self, folder: Path) -> None:
        program = shutil.which("redis-server")
        if program is None:
            unavailable("redis-server is not on PATH")
        self.program, self.folder = program, folder
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on the port of an earlier start, else on a free one."""
        log = self.folder / "redis.log"
        wanted = self.port
        # a port picked free can be taken before the server binds it: try a few
        for _ in range(1 if wanted else 3):
            self.port = wanted or free_port()
            args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            self.process = subprocess.Popen(
                [self.program, *args, "--dir", str(self.folder), "--logfile", str(log)],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 10
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if redis_command(self.port, "PING", timeout=0.5) == b"+PONG":
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop()
        text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"redis-server did not answer PING:\n{text}", pytrace=False)

    def stop(self) -> None:
        """Terminate the server, killing it if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on 127.0.0.1 for the whole session: its URL."""
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    port = int(redis_server.removeprefix("redis://127.0.0.1:").split("/", 1)[0])
    assert redis_command(port, "FLUSHALL") == b"+OK"
    return redis_server


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A started redis-server of this test's own, stopped at its end."""
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def closed_redis_url() -> str:
    """A Redis URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"

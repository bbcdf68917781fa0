"""A real HTTP event listener for tests.

    with Listener() as listener:                 # 127.0.0.1, ephemeral port
        post hub {"callback": listener.url}
        listener.fail()                          # answer 500 from now on
        listener.fail_next(3)                    # answer 500 to the next 3 requests, then 201
        listener.stop(); listener.start()        # refuse connections, then listen again on the same port
        listener.respond(lambda path, headers, body: 202)   # choose each answer's status (None: back to normal)
        bodies = listener.wait_for(4, timeout=10)

Every POST is recorded in ``requests`` (accepted or not, with the status answered);
the JSON bodies of the accepted ones are in ``bodies``, in arrival order. All
accessors return copies and are safe to call from any thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One POST as the listener saw it."""

    at: float
    path: str
    status: int  #: what the listener answered
    headers: dict[str, str]
    body: Any  #: parsed JSON, or the raw text when it was not JSON
    raw: bytes = b""  #: the body as received (what a signature covers)


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    requests: list[Received] = field(default_factory=list)
    failing: bool = False
    fail_budget: int = 0  #: requests still to refuse before answering normally again
    #: (path, lower-cased headers, body) -> status to answer; overrides fail()/fail_next() while set
    responder: Callable[[str, dict[str, str], Any], int] | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the dispatcher opens up to one connection per hub at once
    state: _State


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        state = self.server.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        with state.lock:
            if state.responder is not None:
                status = state.responder(self.path, headers, body)
            elif state.fail_budget > 0:
                state.fail_budget -= 1
                status = 500
            else:
                status = 500 if state.failing else 201
            state.requests.append(Received(time.time(), self.path, status, headers, body, raw))
            state.lock.notify_all()
        payload = b'{"error":"listener told to fail"}' if status >= 400 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class Listener:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Listener:
        """Listen (again); after ``stop()`` the same port is reused."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.state = self._state
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/listener"

    # -- behaviour -------------------------------------------------------------------

    def fail(self, failing: bool = True) -> None:
        """Answer 500 to every request from now on (``fail(False)`` or ``recover()`` to stop)."""
        with self._state.lock:
            self._state.failing = failing

    def recover(self) -> None:
        with self._state.lock:
            self._state.failing = False
            self._state.fail_budget = 0

    def fail_next(self, n: int) -> None:
        """Answer 500 to the next ``n`` requests, then answer normally."""
        with self._state.lock:
            self._state.fail_budget = n

    def respond(self, responder: Callable[[str, dict[str, str], Any], int] | None) -> None:
        """Answer each request with ``responder(path, headers, body)`` (called under the listener's
        lock, so keep it simple); ``None`` restores the normal answers."""
        with self._state.lock:
            self._state.responder = responder

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()

    # -- what arrived ----------------------------------------------------------------

    @property
    def requests(self) -> list[Received]:
        """Every POST, accepted or refused, in arrival order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def accepted(self) -> list[Received]:
        with self._state.lock:
            return [r for r in self._state.requests if r.status < 400]

    @property
    def bodies(self) -> list[Any]:
        """JSON bodies of the accepted POSTs, in arrival order."""
        return [r.body for r in self.accepted]

    def wait_until(self, predicate: Callable[[list[Any]], bool], timeout: float = 10.0) -> list[Any]:
        """Wait until ``predicate(bodies)`` holds; return the bodies, or raise AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._state.lock:
            while True:
                bodies = [r.body for r in self._state.requests if r.status < 400]
                if predicate(bodies):
                    return bodies
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"listener: condition not met within {timeout}s; {len(bodies)} accepted of "
                        f"{len(self._state.requests)} requests: {[_brief(b) for b in bodies][-20:]}"
                    )
                self._state.lock.wait(min(left, 0.2))

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Any]:
        """Wait until at least ``n`` bodies were accepted; return them all."""
        return self.wait_until(lambda bodies: len(bodies) >= n, timeout)

    def wait_requests(self, n: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``n`` POSTs arrived, accepted or not."""
        deadline = time.monotonic() + timeout
        with self._state.lock:
            while len(self._state.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"listener: {len(self._state.requests)} of {n} requests within {timeout}s")
                self._state.lock.wait(min(left, 0.2))
            return list(self._state.requests)


def _brief(body: Any) -> Any:
    if isinstance(body, dict):
        return (body.get("eventType"), body.get("eventId"))
    return body


def first_seen(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bodies with repeated eventIds (at-least-once redeliveries) removed, in arrival order."""
    seen: set[str] = set()
    out = []
    for b in bodies:
        if b["eventId"] not in seen:
            seen.add(b["eventId"])
            out.append(b)
    return out

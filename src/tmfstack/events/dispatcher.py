"""Delivers outbox events to subscribers, outside the request path.

The loop claims, with a lease, the oldest pending delivery of each subscription
(so each listener receives its events in order), POSTs the event to the hub's
callback, and records the outcome. A failure is retried after ``RetryPolicy``'s
delay; after ``max_attempts`` the delivery is parked as ``dead`` until someone
re-delivers it. A process killed mid-delivery leaves a lease that expires, and
the delivery is tried again: receivers de-duplicate by ``eventId`` (also sent as
``X-Tmf-Event-Id``).

Fairness: a slow or dead subscriber must not delay the others. Each delivery runs as
its own task (at most ``concurrency`` at once, one per subscription since only a
subscription's head is claimed), so nobody waits for a batch to finish; healthy hubs
are claimed first, hubs whose last attempt failed get at most a quarter of the slots
and a shorter deadline, and their retries back off.

Callbacks are client-chosen URLs: every POST goes through the outbound guard
(``tmfstack.net``), which refuses addresses the ``AddressPolicy`` forbids (the server's
own among them), bounds the whole call by a deadline and reads at most ``ANSWER_CAP``
bytes of the answer, which is then dropped: what is stored and shown of an attempt is
its status or a short reason of ours (``reason``), never the listener's words.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ..net.addresses import redact_url
from ..net.outbound import AddressPolicy, DestinationNotAllowed, fetch, guarded_client
from ..store.base import Delivery, Store
from ..worker import PollingWorker
from .signing import SIGNATURE, signature, unseal

log = logging.getLogger("tmfstack.events")

#: bytes of a listener's answer read (and dropped): only its status matters
ANSWER_CAP = 1024


@dataclass(frozen=True)
class RetryPolicy:
    """After the n-th failed attempt, wait ``min(base * factor ** (n - 1), max_delay)`` seconds.

    With the defaults: 1, 2, 4, 8 … 300 s; dead after 10 attempts (about 8.5 minutes).
    """

    base: float = 1.0
    factor: float = 2.0
    max_delay: float = 300.0
    max_attempts: int = 10

    def delay(self, attempts: int) -> float:
        return float(min(self.base * self.factor ** max(attempts - 1, 0), self.max_delay))


class Dispatcher(PollingWorker):
    def __init__(
        self,
        store: Store,
        policy: RetryPolicy | None = None,
        *,
        lease: float = 15.0,
        poll: float = 0.5,
        timeout: float = 5.0,
        slow_timeout: float = 2.0,
        concurrency: int = 256,
        outbound: AddressPolicy | None = None,
        passphrase: str = "",
        shape: Callable[[str, bytes], bytes] | None = None,
    ) -> None:
        """``timeout``: the whole of one delivery attempt (``slow_timeout`` for a hub whose last one
        failed); ``outbound``: which callback addresses may be reached (None: public addresses only);
        ``passphrase``: unseals the hubs' signing secrets; ``shape``: (hub's event API, stored event) ->
        the bytes that hub receives (its version's shape; the engine's ``shape_event``)."""
        self.store = store
        self.policy = policy or RetryPolicy()
        # the lease must outlast one delivery attempt, or a slow listener would be sent twice
        self.lease, self.poll = max(lease, 2 * timeout), poll
        self.timeout, self.slow_timeout = timeout, min(slow_timeout, timeout)
        self.concurrency = max(concurrency, 2)
        self.failing_cap = max(1, self.concurrency // 4)
        self.passphrase = passphrase
        self.shape = shape
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.inflight: dict[asyncio.Task[None], bool] = {}  #: task -> its hub was failing
        # one connection per delivery in flight: the pool must not be a queue in front of them
        self.client = guarded_client(outbound or AddressPolicy(), timeout=timeout, max_connections=self.concurrency)
        super().__init__()

    async def stop(self) -> None:
        await super().stop()
        for task in list(self.inflight):  # their leases expire and they are sent again: at-least-once
            task.cancel()
        await asyncio.gather(*self.inflight, return_exceptions=True)
        await self.client.aclose()

    async def next_due(self) -> float | None:
        if len(self.inflight) >= self.concurrency:
            return time.time() + self.poll  # full: a finishing delivery wakes the loop
        return await self.store.next_due()

    async def run_once(self) -> int:
        free = self.concurrency - len(self.inflight)
        if free <= 0:
            return 0
        now = time.time()
        claimed = await self.store.claim_deliveries(self.owner, now, self.lease, free, failing=False)
        failing_free = min(free - len(claimed), self.failing_cap - sum(self.inflight.values()))
        if failing_free > 0:
            claimed += await self.store.claim_deliveries(self.owner, now, self.lease, failing_free, failing=True)
        for d in claimed:
            task = asyncio.get_running_loop().create_task(self.deliver(d))
            self.inflight[task] = d.hub_failures > 0
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.inflight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())
        self.wake()  # the hub's next delivery may go now

    def headers(self, d: Delivery, payload: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "X-Event-Id": d.event_id,
            "X-Tmf-Event-Id": d.event_id,
            "X-Tmf-Delivery-Id": str(d.id),
        }
        secret = unseal(d.secret, self.passphrase) if d.secret else None
        if secret is not None:
            headers[SIGNATURE] = signature(secret, payload)
        return headers

    async def deliver(self, d: Delivery) -> None:
        deadline = self.timeout if d.hub_failures == 0 else self.slow_timeout
        payload = self.shape(d.hub_api, d.payload) if self.shape is not None else d.payload
        try:
            answer = await fetch(
                self.client,
                "POST",
                d.callback,
                content=payload,
                headers=self.headers(d, payload),
                limit=ANSWER_CAP,
                deadline=deadline,
                truncate=True,
            )
            status = answer.status
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # InvalidURL / ValueError: a callback stored before URLs were checked, an unreadable answer
            status, error = 0, reason(exc)
        now = time.time()
        if error is None:
            await self.store.mark_delivered(d.id, now, status)
            return
        attempts = d.attempts + 1
        dead = attempts >= self.policy.max_attempts
        await self.store.mark_failed(d.id, now, now + self.policy.delay(attempts), error, dead)
        log.warning(
            "delivery %s of %s to %s failed (%s)%s",
            d.id,
            d.event_type,
            redact_url(d.callback),
            error,
            "; parked as dead" if dead else "",
        )


def reason(exc: Exception) -> str:
    """A short, fixed description of a failed attempt: our words, never the listener's."""
    if isinstance(exc, DestinationNotAllowed):
        return f"destination not allowed ({exc.why})"
    if isinstance(exc, httpx.ConnectTimeout):
        return "ConnectTimeout: connect timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        for needle, why in (("refused", "connection refused"), ("resolve", "name not resolved"), ("ssl", "TLS")):
            if needle in text:
                return f"ConnectError: {why}"
        return "ConnectError: connection failed"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol error"
    if isinstance(exc, httpx.NetworkError):
        return "connection lost"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "invalid callback URL"
    if isinstance(exc, ValueError):
        return "unreadable answer"
    return type(exc).__name__

"""Delivers outbox events to subscribers, outside the request path.

The loop claims, with a lease, the oldest pending delivery of each subscription
(so each listener receives its events in order), POSTs the event to the hub's
callback, and records the outcome. A failure is retried after ``RetryPolicy``'s
delay; after ``max_attempts`` the delivery is parked as ``dead`` until someone
re-delivers it. A process killed mid-delivery leaves a lease that expires, and
the delivery is tried again: receivers de-duplicate by ``eventId``.

Callbacks are client-chosen URLs: every POST goes through the outbound guard
(``tmfstack.net``), which refuses addresses the ``AddressPolicy`` forbids, bounds the whole
call by a deadline and reads at most ``ANSWER_CAP`` bytes of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass

import httpx

from ..net.outbound import AddressPolicy, fetch, guarded_client
from ..store.base import Delivery, Store
from ..worker import PollingWorker

log = logging.getLogger("tmfstack.events")

#: bytes of a listener's answer read: its status is what matters, the text only explains a failure
ANSWER_CAP = 4096
#: characters of an answer or error kept in ``last_error`` (shown to operators)
ERROR_CHARS = 200


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
        batch: int = 64,
        poll: float = 0.5,
        timeout: float = 5.0,
        outbound: AddressPolicy | None = None,
    ) -> None:
        """``timeout``: the whole of one delivery attempt; ``outbound``: which callback addresses may
        be reached (None: public addresses only)."""
        self.store = store
        self.policy = policy or RetryPolicy()
        # the lease must outlast one delivery attempt, or a slow listener would be sent twice
        self.lease, self.batch, self.poll, self.timeout = max(lease, 2 * timeout), batch, poll, timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        # concurrency is bounded by the claimed batch (one gather per batch), connections by the pool
        self.client = guarded_client(outbound or AddressPolicy(), timeout=timeout, max_connections=max(batch, 1))
        super().__init__()

    async def stop(self) -> None:
        await super().stop()
        await self.client.aclose()

    async def next_due(self) -> float | None:
        return await self.store.next_due()

    async def run_once(self) -> int:
        claimed = await self.store.claim_deliveries(self.owner, time.time(), self.lease, self.batch)
        if claimed:
            await asyncio.gather(*(self.deliver(d) for d in claimed))
        return len(claimed)

    async def deliver(self, d: Delivery) -> None:
        try:
            answer = await fetch(
                self.client,
                "POST",
                d.callback,
                content=d.payload,
                headers={"Content-Type": "application/json", "X-Event-Id": d.event_id},
                limit=ANSWER_CAP,
                deadline=self.timeout,
                truncate=True,
            )
            status, error = answer.status, None
            if not 200 <= status < 300:
                error = f"HTTP {status}: {_printable(answer.body.decode('utf-8', 'replace'))}"
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # InvalidURL / ValueError: a callback stored before URLs were checked, an unreadable answer
            status, error = 0, f"{type(exc).__name__}: {_printable(str(exc))}"
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
            d.callback,
            error,
            "; parked as dead" if dead else "",
        )


def _printable(text: str) -> str:
    """At most ERROR_CHARS of ``text`` as one line of printable characters (it is stored and shown)."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:ERROR_CHARS]

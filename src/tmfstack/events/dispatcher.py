"""Delivers outbox events to subscribers, outside the request path.

The loop claims, with a lease, the oldest pending delivery of each subscription
(so each listener receives its events in order), POSTs the event to the hub's
callback, and records the outcome. A failure is retried after ``RetryPolicy``'s
delay; after ``max_attempts`` the delivery is parked as ``dead`` until someone
re-delivers it. A process killed mid-delivery leaves a lease that expires, and
the delivery is tried again: receivers de-duplicate by ``eventId``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass

import httpx

from ..store.base import Delivery, Store
from ..worker import PollingWorker

log = logging.getLogger("tmfstack.events")


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
    ) -> None:
        self.store = store
        self.policy = policy or RetryPolicy()
        # the lease must outlast one delivery attempt, or a slow listener would be sent twice
        self.lease, self.batch, self.poll = max(lease, 2 * timeout), batch, poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
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
            response = await self.client.post(
                d.callback,
                content=d.payload,
                headers={"Content-Type": "application/json", "X-Event-Id": d.event_id},
            )
            status, error = response.status_code, None
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
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

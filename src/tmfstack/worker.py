"""The loop shared by tmfstack's background workers (event dispatcher, task runner).

A worker runs ``run_once`` while it finds work; when idle it sleeps until woken (a
transaction just committed work for it) or until ``next_due`` says something becomes
due, at most ``poll`` seconds (other processes sharing the database wake nobody here).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time

log = logging.getLogger("tmfstack.worker")


class PollingWorker(abc.ABC):
    poll: float = 0.5

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def run_once(self) -> int:
        """Do one round of work; return how much was done (0: idle)."""

    @abc.abstractmethod
    async def next_due(self) -> float | None:
        """Epoch time at which the earliest waiting work becomes due, if any."""

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        while True:
            try:
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive a database hiccup
                log.exception("%s round failed", type(self).__name__)
                worked = 0
            if worked:
                await asyncio.sleep(0)  # let requests in between rounds
                continue
            self._wake.clear()
            due = await self.next_due()
            wait = self.poll if due is None else max(0.005, min(self.poll, due - time.time()))
            # not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the
            # wake-up does (the dispatcher's finishing deliveries wake it), and stop() never returns
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

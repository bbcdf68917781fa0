"""Runs durable tasks: the orchestration steps of domain modules (e.g. the order manager).

A task is a (queue, key) row, due at a time. The runner leases due tasks, and for
each opens a unit of work, finishes the task in it and calls the queue's handler,
so the handler's writes, its events, the tasks it schedules and the task's removal
commit together. A handler that raises rolls all of that back; the task is retried
after a backoff. A process killed mid-step leaves a lease that expires, and the
step runs again from the committed state: handlers must be written as "look at the
state, do the next thing", never as "do the thing I was told".
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import ConcurrentUpdate
from ..store.base import Task
from ..worker import PollingWorker
from .unit import Unit

if TYPE_CHECKING:
    from .registry import Engine

log = logging.getLogger("tmfstack.tasks")

#: handler(engine, unit, key): one step for ``key``, inside ``unit``
Handler = Callable[["Engine", Unit, str], Awaitable[None]]
#: a handler that must do I/O outside any transaction (e.g. call an external system): it gets
#: the task and opens its own units, finishing the task (``unit.tx.finish_task``) in the last one
IoHandler = Callable[["Engine", Task], Awaitable[None]]


def outside_unit(handler: IoHandler) -> IoHandler:
    handler.outside_unit = True  # type: ignore[attr-defined]
    return handler


class TaskRunner(PollingWorker):
    def __init__(
        self,
        engine: Engine,
        handlers: Mapping[str, Handler] | None = None,
        *,
        lease: float = 10.0,  # steps take milliseconds; a dead process's steps resume after this
        batch: int = 32,
        poll: float = 0.5,
        max_backoff: float = 60.0,
    ) -> None:
        # by default, every queue the engine's APIs declare
        declared = {q: h for api in engine.apis.values() for q, h in api.tasks.items()}
        self.engine, self.handlers = engine, dict(declared if handlers is None else handlers)
        self.lease, self.batch, self.poll, self.max_backoff = lease, batch, poll, max_backoff
        self.owner = f"{socket.gethostname()}:{os.getpid()}:tasks"
        super().__init__()

    def start(self) -> None:
        self._unregister = self.engine.on_task(self.wake)
        super().start()

    async def stop(self) -> None:
        if self._task is not None:
            self._unregister()
        await super().stop()

    async def next_due(self) -> float | None:
        return await self.engine.store.next_task_due()

    async def run_once(self) -> int:
        claimed = await self.engine.store.claim_tasks(self.owner, time.time(), self.lease, self.batch)
        # steps of different keys run concurrently: their units share commits (SQLite group
        # commit) or connections (PostgreSQL); a clash on shared rows is a CAS retry
        await asyncio.gather(*(self.step(task) for task in claimed))
        return len(claimed)

    async def step(self, task: Task) -> None:
        handler = self.handlers.get(task.queue)
        try:
            if handler is None:
                raise LookupError(f"no handler for task queue {task.queue!r}")
            if getattr(handler, "outside_unit", False):
                await handler(self.engine, task)  # type: ignore[call-arg, arg-type]
                return
            async with self.engine.unit() as unit:
                await unit.tx.finish_task(task)
                await handler(self.engine, unit, task.key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raced = isinstance(exc, ConcurrentUpdate)  # lost a compare-and-set: retry at once
            delay = 0.0 if raced else min(0.1 * 2.0 ** (task.attempts - 1), self.max_backoff)
            if not raced:
                log.warning("task %s/%s failed (attempt %d): %s", task.queue, task.key, task.attempts, exc)
            await self.engine.store.fail_task(task, time.time() + delay, f"{type(exc).__name__}: {exc}")

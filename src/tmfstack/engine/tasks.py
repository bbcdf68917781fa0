"""Runs durable tasks: the orchestration steps of domain modules (e.g. the order manager).

A task is a (queue, key) row, due at a time. The runner leases due tasks, and for
each opens a unit of work, finishes the task in it and calls the queue's handler,
so the handler's writes, its events, the tasks it schedules and the task's removal
commit together. A handler that raises rolls all of that back; the task is retried
after a backoff. A process killed mid-step leaves a lease that expires, and the
step runs again from the committed state: handlers must be written as "look at the
state, do the next thing", never as "do the thing I was told".

A poison task (a step that keeps raising) is retried with doubling delays
(``TMFSTACK_TASK_RETRY_BASE`` .. ``TMFSTACK_TASK_RETRY_MAX``) and after
``TMFSTACK_TASK_MAX_ATTEMPTS`` failures parked: claimed no more, its last error kept short,
its history noted. The queue's owner hears of it through the hook it declared with
``parks_with`` (e.g. the order manager holds the order with a coded reason), in the same
unit. ``retry_parked`` (an operator, ``web/admin_tasks.py``) re-arms it and tells the owner.
A lost compare-and-set race is no attempt: it is retried at once and never parks a task.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import ConcurrentUpdate, TmfError
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


#: hook(engine, unit, key, text): the queue's owner is told its task for ``key`` was parked
#: (``text``: the short error) or re-armed by an operator (``text``: who and why), inside that unit
ParkHook = Callable[["Engine", Unit, str, str], Awaitable[None]]
#: how much of an error is kept on a parked task and shown to operators
ERROR_CHARS = 300


def outside_unit(handler: IoHandler) -> IoHandler:
    handler.outside_unit = True  # type: ignore[attr-defined]
    return handler


def parks_with(parked: ParkHook, retried: ParkHook | None = None) -> Callable[[Handler], Handler]:
    """Declare what a queue's owner does when its task is parked, and when an operator retries it."""

    def mark(handler: Handler) -> Handler:
        handler.on_parked = parked  # type: ignore[attr-defined]
        handler.on_retried = retried  # type: ignore[attr-defined]
        return handler

    return mark


def short_error(exc: BaseException) -> str:
    """One line an operator may read: our own errors' code and message, else the exception's
    type and the first line of its text, without control characters, at most ERROR_CHARS."""
    text = f"{exc.code}: {exc.message}" if isinstance(exc, TmfError) else f"{type(exc).__name__}: {exc}"
    line = (text.splitlines() or [""])[0]
    return "".join(c if c.isprintable() else " " for c in line)[:ERROR_CHARS]


async def retry_parked(engine: Engine, queue: str, key: str, actor: str, reason: str) -> bool:
    """Re-arm a parked task now (an operator's retry, recorded with ``actor`` and ``reason``) and
    tell its owner; False when no such task is parked."""
    handler = {q: h for api in engine.apis.values() for q, h in api.tasks.items()}.get(queue)
    async with engine.unit() as unit:
        if not await unit.tx.unpark_task(queue, key, time.time(), actor, reason):
            return False
        await unit.schedule(queue, key, time.time())
        hook = getattr(handler, "on_retried", None)
        if hook is not None:
            await hook(engine, unit, key, f"retried by {actor}: {reason}")
    return True


class TaskRunner(PollingWorker):
    def __init__(
        self,
        engine: Engine,
        handlers: Mapping[str, Handler] | None = None,
        *,
        lease: float = 10.0,  # steps take milliseconds; a dead process's steps resume after this
        batch: int = 32,
        poll: float = 0.5,
    ) -> None:
        # by default, every queue the engine's APIs declare
        declared = {q: h for api in engine.apis.values() for q, h in api.tasks.items()}
        self.engine, self.handlers = engine, dict(declared if handlers is None else handlers)
        self.lease, self.batch, self.poll = lease, batch, poll
        settings = engine.settings
        self.max_attempts, self.base = settings.task_max_attempts, settings.task_retry_base
        self.max_backoff = settings.task_retry_max
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
        except ConcurrentUpdate as exc:  # lost a compare-and-set: retry at once, not an attempt
            await self.engine.store.fail_task(task, time.time(), short_error(exc), counted=False)
        except Exception as exc:
            error = short_error(exc)
            if task.attempts >= self.max_attempts:
                await self.park(task, error)
                return
            delay = min(self.base * 2.0 ** (task.attempts - 1), self.max_backoff)
            log.warning("task %s/%s failed (attempt %d): %s", task.queue, task.key, task.attempts, exc)
            await self.engine.store.fail_task(task, time.time() + delay, error)

    async def park(self, task: Task, error: str) -> None:
        """Stop retrying ``task`` and tell its owner, in one unit; parked anyway if the owner's hook fails."""
        log.error("task %s/%s parked after %d attempts: %s", task.queue, task.key, task.attempts, error)
        hook = getattr(self.handlers.get(task.queue), "on_parked", None)
        for attempt in range(3):
            try:
                async with self.engine.unit() as unit:
                    await unit.tx.park_task(task, time.time(), error)
                    if hook is not None and attempt < 2:  # the last try parks without the owner
                        await hook(self.engine, unit, task.key, error)
                return
            except ConcurrentUpdate:
                continue  # the owner's document changed meanwhile: read it again
            except Exception:
                log.exception("the owner of task %s/%s failed to hear it was parked", task.queue, task.key)
                hook = None

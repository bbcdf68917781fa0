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
its history noted (``RetryPolicy``). The queue's owner hears of it through the hook it declared,
``TaskDecl.on_parked`` (e.g. the order manager holds the order with a coded reason), in the same
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConcurrentUpdate, TmfError
from ..store.base import Task
from ..worker import PollingWorker
from .unit import Unit

if TYPE_CHECKING:
    from .core import Engine

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


@dataclass(frozen=True)
class TaskDecl:
    """One durable task queue of an API (``ApiDecl.tasks``: queue name -> TaskDecl or IoTaskDecl).

    The runner opens a unit, finishes the task in it and calls ``handler(engine, unit, key)``.
    ``on_parked`` / ``on_retried``: the queue's owner hears that a task was parked, or re-armed by
    an operator (``ParkHook``)."""

    handler: Handler
    on_parked: ParkHook | None = None
    on_retried: ParkHook | None = None


@dataclass(frozen=True)
class IoTaskDecl:
    """A task queue whose ``handler(engine, task)`` does I/O outside any transaction (an
    ``IoHandler``) and finishes the task itself; hooks as in ``TaskDecl``."""

    handler: IoHandler
    on_parked: ParkHook | None = None
    on_retried: ParkHook | None = None


#: what an API declares per task queue
Queue = TaskDecl | IoTaskDecl


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing task is retried: delays doubling from ``base`` up to ``cap`` seconds, and
    parked when its ``max_attempts``-th attempt fails."""

    max_attempts: int = 10
    base: float = 0.1
    cap: float = 60.0

    def delay(self, attempts: int) -> float | None:
        """Seconds before the next try after ``attempts`` failed ones; None: park the task."""
        if attempts >= self.max_attempts:
            return None
        return min(self.base * 2.0 ** (attempts - 1), self.cap)


def short_error(exc: BaseException) -> str:
    """One line an operator may read: our own errors' code and message, else the exception's
    type and the first line of its text, without control characters, at most ERROR_CHARS."""
    text = f"{exc.code}: {exc.message}" if isinstance(exc, TmfError) else f"{type(exc).__name__}: {exc}"
    line = (text.splitlines() or [""])[0]
    return "".join(c if c.isprintable() else " " for c in line)[:ERROR_CHARS]


async def retry_parked(engine: Engine, queue: str, key: str, actor: str, reason: str) -> bool:
    """Re-arm a parked task now (an operator's retry, recorded with ``actor`` and ``reason``) and
    tell its owner; False when no such task is parked."""
    decl = engine.queues.get(queue)
    async with engine.unit() as unit:
        if not await unit.tx.unpark_task(queue, key, time.time(), actor, reason):
            return False
        await unit.schedule(queue, key, time.time())
        hook = decl.on_retried if decl is not None else None
        if hook is not None:
            await hook(engine, unit, key, f"retried by {actor}: {reason}")
    return True


class TaskRunner(PollingWorker):
    def __init__(
        self,
        engine: Engine,
        queues: Mapping[str, Queue] | None = None,
        *,
        lease: float = 10.0,  # steps take milliseconds; a dead process's steps resume after this
        batch: int = 32,
        poll: float = 0.5,
    ) -> None:
        # by default, every queue the engine's APIs declare
        self.engine, self.queues = engine, dict(engine.queues if queues is None else queues)
        self.lease, self.batch, self.poll = lease, batch, poll
        settings = engine.settings
        self.retry = RetryPolicy(settings.task_max_attempts, settings.task_retry_base, settings.task_retry_max)
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
        decl = self.queues.get(task.queue)
        try:
            if decl is None:
                raise LookupError(f"no handler for task queue {task.queue!r}")
            if isinstance(decl, IoTaskDecl):
                await decl.handler(self.engine, task)
                return
            async with self.engine.unit() as unit:
                await unit.tx.finish_task(task)
                await decl.handler(self.engine, unit, task.key)
        except asyncio.CancelledError:
            raise
        except ConcurrentUpdate as exc:  # lost a compare-and-set: retry at once, not an attempt
            await self.engine.store.fail_task(task, time.time(), short_error(exc), counted=False)
        except Exception as exc:
            error = short_error(exc)
            delay = self.retry.delay(task.attempts)
            if delay is None:
                await self.park(task, error)
                return
            log.warning("task %s/%s failed (attempt %d): %s", task.queue, task.key, task.attempts, exc)
            await self.engine.store.fail_task(task, time.time() + delay, error)

    async def park(self, task: Task, error: str) -> None:
        """Stop retrying ``task`` and tell its owner, in one unit; parked anyway if the owner's hook fails."""
        log.error("task %s/%s parked after %d attempts: %s", task.queue, task.key, task.attempts, error)
        decl = self.queues.get(task.queue)
        hook = decl.on_parked if decl is not None else None
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

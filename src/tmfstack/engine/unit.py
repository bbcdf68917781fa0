"""A unit of work: one store transaction spanning any resources of any API, plus what runs
after it commits (waking the event dispatcher and the task runner, after-commit hooks).

    async with engine.unit() as unit:
        order, _, _ = await orders.update(order_id, start, unit=unit)
        await products.create(product_body, keep_id=True, unit=unit)
    # both rows and their events are committed together, or neither is
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..store.base import HubRow, Task, Tx


@dataclass
class Unit:
    tx: Tx
    deliveries: int = 0  #: event deliveries written; the dispatcher is woken after commit
    tasks: int = 0  #: tasks scheduled; the task runner is woken after commit
    later: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: subscriptions per event API, read once per unit (a step may emit many events)
    hubs: dict[str, list[HubRow]] = field(default_factory=dict)
    #: (kind, id) -> the version of a document this unit decided on (read it at, or wrote it
    #: as). An ``update`` of that document in this unit raises ConcurrentUpdate when the stored
    #: version differs, so a decision made on a stale read is retried from a fresh one; the
    #: version the unit writes is recorded again. Filled by whoever reads (e.g. a task handler)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (queue, key) tasks this unit runs inline right now (``claiming``): ``schedule`` drops
    #: them, since the running code already sees all the unit's changes
    claimed: set[tuple[str, str]] = field(default_factory=set)

    async def subscriptions(self, event_api: str) -> list[HubRow]:
        found = self.hubs.get(event_api)
        if found is None:
            found = self.hubs[event_api] = await self.tx.hubs(event_api)
        return found

    async def finish_task(self, task: Task) -> None:
        """Mark ``task`` done with this unit (a task handler outside a unit finishes it in its own)."""
        await self.tx.finish_task(task)

    async def schedule(self, queue: str, key: str, due: float) -> None:
        """Ask for ``queue``'s handler to run for ``key`` at ``due`` (epoch seconds), durably."""
        if (queue, key) in self.claimed:
            return
        await self.tx.schedule(queue, key, due)
        self.tasks += 1

    @contextmanager
    def claiming(self, *steps: tuple[str, str]) -> Iterator[None]:
        """Run ``steps`` (queue, key) inline: while inside, requests to schedule them are dropped,
        because the caller is doing that step now and looks at everything it causes."""
        fresh = [s for s in steps if s not in self.claimed]
        self.claimed.update(fresh)
        try:
            yield
        finally:
            self.claimed.difference_update(fresh)

"""A unit of work: one store transaction spanning any resources of any API, plus what runs
after it commits (waking the event dispatcher and the task runner, after-commit hooks).

    async with engine.unit() as unit:
        order, _, _ = await orders.update(order_id, start, unit=unit)
        await products.create(product_body, keep_id=True, unit=unit)
    # both rows and their events are committed together, or neither is
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..store.base import HubRow, Tx


@dataclass
class Unit:
    tx: Tx
    deliveries: int = 0  #: event deliveries written; the dispatcher is woken after commit
    tasks: int = 0  #: tasks scheduled; the task runner is woken after commit
    later: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: subscriptions per event API, read once per unit (a step may emit many events)
    hubs: dict[str, list[HubRow]] = field(default_factory=dict)
    #: (kind, id) -> version a step read a document at; its save must find that version
    seen: dict[tuple[str, str], int] = field(default_factory=dict)

    async def subscriptions(self, event_api: str) -> list[HubRow]:
        found = self.hubs.get(event_api)
        if found is None:
            found = self.hubs[event_api] = await self.tx.hubs(event_api)
        return found

    async def schedule(self, queue: str, key: str, due: float) -> None:
        """Ask for ``queue``'s handler to run for ``key`` at ``due`` (epoch seconds), durably."""
        await self.tx.schedule(queue, key, due)
        self.tasks += 1

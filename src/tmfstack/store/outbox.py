"""The outbox as both backends run it, on their dialect's statements: the delivery claim (one
algorithm, ``sqlparts.claim_sql``), the listings, and the subscriptions (hubs) inside a unit.

Recording an event and a delivery's outcome are each backend's own (``sqlite_outbox``,
``postgres_outbox``): PostgreSQL does them in one statement, SQLite in a few inside one unit.
"""

from __future__ import annotations

import time

from ..errors import Conflict
from .base import AuditEntry, Delivery, HubRow
from .queries import StoreQueries, TxQueries


class SharedOutbox(StoreQueries):
    async def get_hub(self, api: str, id: str) -> HubRow | None:
        rows = await self._rows(self.sql.GET_HUB, api, id)
        return HubRow(*rows[0]) if rows else None

    async def claim_deliveries(
        self, owner: str, now: float, lease: float, limit: int, failing: bool | None = None
    ) -> list[Delivery]:
        # the lease is a unit of its own (committed before anything is sent), then the leased rows are read;
        # only their owner changes them until the lease ends
        leased = await self._commit(self.sql.CLAIM_DELIVERIES[failing], owner, now + lease, now, limit)
        if not leased:
            return []
        rows = await self._rows(self.sql.DELIVERIES_BY_ID, self.sql.id_list([r[0] for r in leased]))
        return [Delivery(*r) for r in rows]

    async def deliveries(self, status: str | None, limit: int) -> list[Delivery]:
        if status:
            rows = await self._rows(self.sql.DELIVERIES_WITH_STATUS, status, limit)
        else:
            rows = await self._rows(self.sql.DELIVERIES, limit)
        return [Delivery(*r) for r in rows]

    async def audit(self, limit: int) -> list[AuditEntry]:
        return [AuditEntry(*r) for r in await self._rows(self.sql.AUDIT, limit)]

    async def next_due(self) -> float | None:
        rows = await self._rows(self.sql.NEXT_DUE)
        return rows[0][0] if rows else None


class SharedOutboxTx(TxQueries):
    async def hubs(self, api: str) -> list[HubRow]:
        return [HubRow(*r) for r in await self._rows(self.sql.HUBS, api)]

    async def insert_hub(self, hub: HubRow) -> None:
        done = await self._rows(
            self.sql.INSERT_HUB,
            *(hub.id, hub.api, hub.callback, hub.query, time.time(), hub.doc, hub.client_id, hub.party, hub.secret),
        )
        if not done:
            raise Conflict(f"a hub with id {hub.id!r} already exists", code="DUPLICATE_ID")

    async def count_hubs(self, api: str, client_id: str) -> int:
        return int((await self._rows(self.sql.COUNT_HUBS, api, client_id))[0][0])

    async def delete_hub(self, api: str, id: str) -> bool:
        if not await self._rows(self.sql.DELETE_HUB, api, id):
            return False
        await self._rows(self.sql.DROP_UNDELIVERED, id)
        return True

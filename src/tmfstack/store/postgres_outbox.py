"""PostgreSQL side of the outbox: what is not shared with SQLite (``outbox``): recording an event with
its deliveries (``PostgresOutboxTx``) and a delivery's outcome or redelivery (``PostgresOutbox``), each
one statement (a data-modifying CTE)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from . import sql_postgres as sql
from .outbox import SharedOutbox, SharedOutboxTx
from .pg_errors import translated


class PostgresOutbox(SharedOutbox):
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError  # provided by PostgresStore

    async def mark_delivered(self, delivery_id: int, now: float, status_code: int) -> None:
        with translated():
            await self.pool.execute(sql.MARK_DELIVERED, delivery_id, now, status_code)

    async def mark_failed(self, delivery_id: int, now: float, next_attempt: float, error: str, dead: bool) -> None:
        status = "dead" if dead else "pending"
        with translated():
            await self.pool.execute(sql.MARK_FAILED, delivery_id, now, status, next_attempt, error[:1000])

    async def redeliver(
        self, delivery_id: int, now: float, actor: str | None = None, reason: str | None = None
    ) -> bool:
        with translated():
            found = await self.pool.fetchval(sql.REDELIVER, delivery_id, now, actor, reason)
        return found is not None


class PostgresOutboxTx(SharedOutboxTx):
    conn: Any  #: asyncpg.Connection

    async def add_event(self, api: str, event_id: str, event_type: str, payload: bytes, hub_ids: Sequence[str]) -> None:
        with translated():
            await self.conn.execute(sql.ADD_EVENT, event_id, api, event_type, time.time(), payload, list(hub_ids))

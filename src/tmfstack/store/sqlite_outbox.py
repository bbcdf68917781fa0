"""SQLite side of the outbox: what is not shared with PostgreSQL (``outbox``): recording an event with
its deliveries (``SqliteOutboxTx``) and a delivery's outcome or redelivery (``SqliteOutbox``), each a
few statements in one unit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from . import sql_sqlite as sql
from .outbox import SharedOutbox, SharedOutboxTx


class SqliteOutbox(SharedOutbox):
    @property
    def conn(self) -> sqlite3.Connection:
        raise NotImplementedError  # provided by SqliteStore (its one shared connection)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # provided by SqliteStore

    async def mark_delivered(self, delivery_id: int, now: float, status_code: int) -> None:
        async with self.transaction():
            self.conn.execute(sql.MARK_DELIVERED, (now, status_code, delivery_id))
            self.conn.execute(sql.HUB_OK, (delivery_id,))
            self.conn.execute(sql.ATTEMPT_OK, (delivery_id, now, status_code))

    async def mark_failed(self, delivery_id: int, now: float, next_attempt: float, error: str, dead: bool) -> None:
        async with self.transaction():
            status = "dead" if dead else "pending"
            self.conn.execute(sql.MARK_FAILED, (status, next_attempt, error[:1000], delivery_id))
            self.conn.execute(sql.HUB_FAILED, (delivery_id,))
            self.conn.execute(sql.ATTEMPT_FAILED, (delivery_id, now, error[:1000]))

    async def redeliver(
        self, delivery_id: int, now: float, actor: str | None = None, reason: str | None = None
    ) -> bool:
        async with self.transaction():
            cur = self.conn.execute(sql.REDELIVER, (now, delivery_id))
            if cur.rowcount > 0:  # the audit row commits with the change, or neither does
                self.conn.execute(sql.AUDIT_REDELIVER, (delivery_id, now, actor, reason))
            return cur.rowcount > 0


class SqliteOutboxTx(SharedOutboxTx):
    conn: sqlite3.Connection

    async def add_event(self, api: str, event_id: str, event_type: str, payload: bytes, hub_ids: Sequence[str]) -> None:
        now = time.time()
        seq = self.conn.execute(sql.ADD_EVENT, (event_id, api, event_type, now, payload)).fetchone()[0]
        if hub_ids:
            self.conn.executemany(sql.ADD_DELIVERY, [(h, seq, now) for h in hub_ids])

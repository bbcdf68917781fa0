"""PostgreSQL backend (asyncpg), for several server processes sharing one database.

Semantics mirror the SQLite backend exactly; the differences are about concurrency:

* the schema is migrated under a transaction-scoped advisory lock, so processes
  starting together migrate once;
* transactions run at READ COMMITTED (see ``postgres_resources`` for how writes of
  resources stay exact); a deadlock between units of work that write several
  resources surfaces as the retryable ``ConcurrentUpdate``;
* claims of deliveries and tasks add ``FOR UPDATE SKIP LOCKED`` to the statements
  SQLite runs too (``outbox``, ``tasks``): processes claiming together take disjoint work.

The backend is this module (connection pool, migrations, transactions) and one mixin per
contract: ``postgres_resources``, ``postgres_outbox`` + the shared ``outbox``, the shared
``tasks``, ``postgres_security``; every statement is named in ``sql_postgres``.
Text comparisons and orderings use ``COLLATE "C"`` (code-point order, as Python),
which is also the collation of the indexes, so that the planner can use them.
Driver errors are translated (``pg_errors``) into ``tmfstack.errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from . import sql_postgres
from .base import Store, Tx
from .idempotency import SharedIdempotencyTx
from .pg_errors import translated as _translated
from .postgres_outbox import PostgresOutbox, PostgresOutboxTx
from .postgres_resources import PostgresResources, PostgresResourceTx
from .postgres_security import PostgresSecurity
from .queries import Rows
from .reference_data import PostgresReferenceTx
from .schema import MIGRATIONS, POSTGRES, statements
from .tasks import SharedTaskQueue, SharedTaskTx

_POOL_PARAMS = ("pool_min", "pool_max")


def _dsn(url: str) -> tuple[str, int, int]:
    """Strip the pool sizes (``?pool_min=1&pool_max=10``) that asyncpg would not understand."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    sizes = {k: int(v) for k, v in query if k in _POOL_PARAMS}
    rest = urlencode([(k, v) for k, v in query if k not in _POOL_PARAMS])
    low, high = sizes.get("pool_min", 1), sizes.get("pool_max", 10)
    return urlunsplit(parts._replace(query=rest)), low, max(low, high)


class PostgresStore(PostgresResources, PostgresOutbox, SharedTaskQueue, PostgresSecurity, Store):
    sql = sql_postgres

    def __init__(self, url: str) -> None:
        self.dsn, self.min_size, self.max_size = _dsn(url)
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "store is not open"
        return self._pool

    async def open(self) -> None:
        with _translated():
            self._pool = await asyncpg.create_pool(self.dsn, min_size=self.min_size, max_size=self.max_size)
            try:
                await self._migrate()
            except BaseException:
                await self._pool.close()
                self._pool = None
                raise

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # serialises processes migrating one database; released at commit
            await conn.execute(sql_postgres.LOCK_MIGRATION, sql_postgres.MIGRATION_LOCK)
            await conn.execute(sql_postgres.META_TABLE)
            value = await conn.fetchval(sql_postgres.META, "schema")
            done = int(value) if value else 0
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number <= done:
                    continue
                for stmt in statements(migration, POSTGRES):
                    await conn.execute(stmt)
                await conn.execute(sql_postgres.SET_META, "schema", str(number))

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with _translated():
                await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        with _translated():
            conn = await self.pool.acquire()
        try:
            tr = conn.transaction()
            with _translated():
                await tr.start()
            try:
                yield PostgresTx(conn)
            except BaseException:
                with suppress(Exception):  # a broken connection is dropped by release()
                    await tr.rollback()
                raise
            with _translated():
                await tr.commit()
        finally:
            await self.pool.release(conn)

    # -- how shared code runs statements (``queries``) --------------------------------

    async def _rows(self, sql: str, *args: Any) -> Rows:
        with _translated():
            return await self.pool.fetch(sql, *args)

    async def _commit(self, sql: str, *args: Any) -> Rows:
        with _translated():  # one statement: autocommitted
            return await self.pool.fetch(sql, *args)


class PostgresTx(PostgresResourceTx, PostgresOutboxTx, SharedTaskTx, PostgresReferenceTx, SharedIdempotencyTx, Tx):
    sql = sql_postgres

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _rows(self, sql: str, *args: Any) -> Rows:
        with _translated():
            return await self.conn.fetch(sql, *args)

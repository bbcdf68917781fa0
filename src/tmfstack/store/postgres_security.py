"""PostgreSQL side of ``SecurityRecords`` (clients, signing keys), mixed into ``PostgresStore``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import astuple
from typing import Any, ParamSpec, TypeVar

import asyncpg

from ..errors import Conflict
from . import sql_postgres as sql
from .pg_errors import translated
from .records import ClientRow, KeyRow, SecurityRecords

P = ParamSpec("P")
R = TypeVar("R")


def _db(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a query with the driver's errors translated (as every PostgresStore method does)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return await fn(*args, **kwargs)

    return wrapper


class PostgresSecurity(SecurityRecords):
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError  # provided by PostgresStore

    @_db
    async def get_client(self, id: str) -> ClientRow | None:
        row = await self.pool.fetchrow(sql.GET_CLIENT, id)
        return ClientRow(*row) if row else None

    @_db
    async def list_clients(self) -> list[ClientRow]:
        return [ClientRow(*r) for r in await self.pool.fetch(sql.LIST_CLIENTS)]

    @_db
    async def insert_client(self, row: ClientRow) -> None:
        done = await self.pool.fetchval(sql.INSERT_CLIENT, *astuple(row))
        if done is None:
            raise Conflict(f"a client with id {row.id!r} already exists", code="DUPLICATE_ID")

    @_db
    async def update_client(self, row: ClientRow) -> None:
        await self.pool.execute(sql.UPDATE_CLIENT, *astuple(row))

    @_db
    async def signing_keys(self) -> list[KeyRow]:
        return [KeyRow(*r) for r in await self.pool.fetch(sql.SIGNING_KEYS)]

    @_db
    async def insert_signing_key(self, row: KeyRow, retire_others_at: float | None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            if retire_others_at is not None:
                await conn.execute(sql.RETIRE_KEYS, retire_others_at)
            await conn.execute(sql.INSERT_KEY, *astuple(row))

    @_db
    async def delete_signing_keys(self, kids: list[str]) -> None:
        if kids:
            await self.pool.execute(sql.DELETE_KEYS, kids)

    @_db
    async def meta_setdefault(self, key: str, value: str) -> str:
        await self.pool.execute(sql.META_SETDEFAULT, key, value)
        stored: str = await self.pool.fetchval(sql.META, key)
        return stored

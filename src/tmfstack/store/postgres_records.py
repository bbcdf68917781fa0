"""PostgreSQL side of ``SecurityRecords`` (clients, signing keys), mixed into ``PostgresStore``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import astuple
from typing import Any, ParamSpec, TypeVar

import asyncpg

from ..errors import Conflict
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


_CLIENT = "id, name, secret_hash, scopes, party, rate, burst, status, created, updated"
_KEY = "kid, alg, private_key, public_jwk, created, retired"


class PostgresRecords(SecurityRecords):
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError  # provided by PostgresStore

    @_db
    async def get_client(self, id: str) -> ClientRow | None:
        row = await self.pool.fetchrow(f"SELECT {_CLIENT} FROM oauth_client WHERE id=$1", id)
        return ClientRow(*row) if row else None

    @_db
    async def list_clients(self) -> list[ClientRow]:
        return [ClientRow(*r) for r in await self.pool.fetch(f"SELECT {_CLIENT} FROM oauth_client ORDER BY id")]

    @_db
    async def insert_client(self, row: ClientRow) -> None:
        done = await self.pool.fetchval(
            f"INSERT INTO oauth_client({_CLIENT}) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " ON CONFLICT (id) DO NOTHING RETURNING id",
            *astuple(row),
        )
        if done is None:
            raise Conflict(f"a client with id {row.id!r} already exists", code="DUPLICATE_ID")

    @_db
    async def update_client(self, row: ClientRow) -> None:
        await self.pool.execute(
            "UPDATE oauth_client SET name=$2, secret_hash=$3, scopes=$4, party=$5, rate=$6, burst=$7, status=$8,"
            " created=$9, updated=$10 WHERE id=$1",
            *astuple(row),
        )

    @_db
    async def signing_keys(self) -> list[KeyRow]:
        return [KeyRow(*r) for r in await self.pool.fetch(f"SELECT {_KEY} FROM signing_key ORDER BY created, kid")]

    @_db
    async def insert_signing_key(self, row: KeyRow, retire_others_at: float | None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            if retire_others_at is not None:
                await conn.execute("UPDATE signing_key SET retired=$1 WHERE retired IS NULL", retire_others_at)
            await conn.execute(
                f"INSERT INTO signing_key({_KEY}) VALUES($1,$2,$3,$4,$5,$6)",
                row.kid,
                row.alg,
                row.private_key,
                row.public_jwk,
                row.created,
                row.retired,
            )

    @_db
    async def delete_signing_keys(self, kids: list[str]) -> None:
        if kids:
            await self.pool.execute("DELETE FROM signing_key WHERE kid = ANY($1::text[])", kids)

    @_db
    async def meta_setdefault(self, key: str, value: str) -> str:
        await self.pool.execute(
            "INSERT INTO tmfstack_meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO NOTHING", key, value
        )
        stored: str = await self.pool.fetchval("SELECT value FROM tmfstack_meta WHERE key=$1", key)
        return stored

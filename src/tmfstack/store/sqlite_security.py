"""SQLite side of ``SecurityRecords`` (clients, signing keys), mixed into ``SqliteStore``."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractAsyncContextManager
from dataclasses import astuple
from typing import Any

from ..errors import Conflict
from . import sql_sqlite as sql
from .records import ClientRow, KeyRow, SecurityRecords


class SqliteSecurity(SecurityRecords):
    @property
    def conn(self) -> sqlite3.Connection:
        raise NotImplementedError  # provided by SqliteStore (its one shared connection)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # provided by SqliteStore

    async def get_client(self, id: str) -> ClientRow | None:
        row = self.conn.execute(sql.GET_CLIENT, (id,)).fetchone()
        return ClientRow(*row) if row else None

    async def list_clients(self) -> list[ClientRow]:
        return [ClientRow(*r) for r in self.conn.execute(sql.LIST_CLIENTS)]

    async def insert_client(self, row: ClientRow) -> None:
        async with self.transaction():
            try:
                self.conn.execute(sql.INSERT_CLIENT, astuple(row))
            except sqlite3.IntegrityError:
                raise Conflict(f"a client with id {row.id!r} already exists", code="DUPLICATE_ID") from None

    async def update_client(self, row: ClientRow) -> None:
        async with self.transaction():
            self.conn.execute(sql.UPDATE_CLIENT, (*astuple(row)[1:], row.id))

    async def signing_keys(self) -> list[KeyRow]:
        return [KeyRow(*r) for r in self.conn.execute(sql.SIGNING_KEYS)]

    async def insert_signing_key(self, row: KeyRow, retire_others_at: float | None) -> None:
        async with self.transaction():
            if retire_others_at is not None:
                self.conn.execute(sql.RETIRE_KEYS, (retire_others_at,))
            self.conn.execute(
                sql.INSERT_KEY, (row.kid, row.alg, row.private_key, row.public_jwk, row.created, row.retired)
            )

    async def delete_signing_keys(self, kids: list[str]) -> None:
        if kids:
            async with self.transaction():
                self.conn.executemany(sql.DELETE_KEY, [(k,) for k in kids])

    async def meta_setdefault(self, key: str, value: str) -> str:
        async with self.transaction():
            self.conn.execute(sql.META_SETDEFAULT, (key, value))
            stored = self.conn.execute(sql.META, (key,)).fetchone()
        return str(stored[0])

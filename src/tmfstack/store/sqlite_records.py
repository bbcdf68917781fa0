"""SQLite side of ``SecurityRecords`` (clients, signing keys), mixed into ``SqliteStore``."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractAsyncContextManager
from dataclasses import astuple
from typing import Any

from ..errors import Conflict
from .records import ClientRow, KeyRow, SecurityRecords

_CLIENT = "id, name, secret_hash, scopes, party, rate, burst, status, created, updated"
_KEY = "kid, alg, private_key, public_jwk, created, retired"


class SqliteRecords(SecurityRecords):
    conn: sqlite3.Connection

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # provided by SqliteStore

    async def get_client(self, id: str) -> ClientRow | None:
        row = self.conn.execute(f"SELECT {_CLIENT} FROM oauth_client WHERE id=?", (id,)).fetchone()
        return ClientRow(*row) if row else None

    async def list_clients(self) -> list[ClientRow]:
        return [ClientRow(*r) for r in self.conn.execute(f"SELECT {_CLIENT} FROM oauth_client ORDER BY id")]

    async def insert_client(self, row: ClientRow) -> None:
        async with self.transaction():
            try:
                self.conn.execute(f"INSERT INTO oauth_client({_CLIENT}) VALUES(?,?,?,?,?,?,?,?,?,?)", astuple(row))
            except sqlite3.IntegrityError:
                raise Conflict(f"a client with id {row.id!r} already exists", code="DUPLICATE_ID") from None

    async def update_client(self, row: ClientRow) -> None:
        async with self.transaction():
            self.conn.execute(
                "UPDATE oauth_client SET name=?, secret_hash=?, scopes=?, party=?, rate=?, burst=?, status=?,"
                " created=?, updated=? WHERE id=?",
                (*astuple(row)[1:], row.id),
            )

    async def signing_keys(self) -> list[KeyRow]:
        return [KeyRow(*r) for r in self.conn.execute(f"SELECT {_KEY} FROM signing_key ORDER BY created, kid")]

    async def insert_signing_key(self, row: KeyRow, retire_others_at: float | None) -> None:
        async with self.transaction():
            if retire_others_at is not None:
                self.conn.execute("UPDATE signing_key SET retired=? WHERE retired IS NULL", (retire_others_at,))
            self.conn.execute(
                f"INSERT INTO signing_key({_KEY}) VALUES(?,?,?,?,?,?)",
                (row.kid, row.alg, row.private_key, row.public_jwk, row.created, row.retired),
            )

    async def delete_signing_keys(self, kids: list[str]) -> None:
        if kids:
            async with self.transaction():
                self.conn.executemany("DELETE FROM signing_key WHERE kid=?", [(k,) for k in kids])

    async def meta_setdefault(self, key: str, value: str) -> str:
        async with self.transaction():
            self.conn.execute(
                "INSERT INTO tmfstack_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO NOTHING", (key, value)
            )
            stored = self.conn.execute("SELECT value FROM tmfstack_meta WHERE key=?", (key,)).fetchone()
        return str(stored[0])

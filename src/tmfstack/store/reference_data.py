"""Reference data: operator-loaded data sets that are not TMF resources (places and markets:
regions, technologies, the areas an address lies in), stored by (data set, key).

One table, ``reference_data``, keyed by its primary key: a read is one index lookup whatever
the data set's size, and nothing here is listed, counted or indexed like a resource. Each
entry carries a version, raised by every write, so a reader may cache what it parsed.
The methods are mixed into each backend's transaction (``SqliteTx``, ``PostgresTx``).
"""

from __future__ import annotations

import abc
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True)
class Entry:
    key: str
    version: int
    doc: bytes


class ReferenceTx(abc.ABC):
    @abc.abstractmethod
    async def reference_get(self, dataset: str, key: str) -> Entry | None:
        """The entry ``key`` of ``dataset`` or None."""

    @abc.abstractmethod
    async def reference_put(self, dataset: str, key: str, doc: bytes) -> int:
        """Write the entry (created, or replaced with its version raised); returns its version."""

    @abc.abstractmethod
    async def reference_delete(self, dataset: str, key: str) -> bool: ...


class SqliteReferenceTx(ReferenceTx):
    conn: sqlite3.Connection

    async def reference_get(self, dataset: str, key: str) -> Entry | None:
        row = self.conn.execute(
            "SELECT key, version, doc FROM reference_data WHERE dataset=? AND key=?", (dataset, key)
        ).fetchone()
        return Entry(*row) if row else None

    async def reference_put(self, dataset: str, key: str, doc: bytes) -> int:
        (version,) = self.conn.execute(
            "INSERT INTO reference_data(dataset, key, version, doc) VALUES(?,?,1,?)"
            " ON CONFLICT(dataset, key) DO UPDATE SET version=reference_data.version+1, doc=excluded.doc"
            " RETURNING version",
            (dataset, key, doc),
        ).fetchone()
        return int(version)

    async def reference_delete(self, dataset: str, key: str) -> bool:
        cur = self.conn.execute("DELETE FROM reference_data WHERE dataset=? AND key=?", (dataset, key))
        return cur.rowcount > 0


class PostgresReferenceTx(ReferenceTx):
    conn: asyncpg.Connection

    async def reference_get(self, dataset: str, key: str) -> Entry | None:
        row = await self.conn.fetchrow(
            "SELECT key, version, doc FROM reference_data WHERE dataset=$1 AND key=$2", dataset, key
        )
        return Entry(*row) if row else None

    async def reference_put(self, dataset: str, key: str, doc: bytes) -> int:
        version = await self.conn.fetchval(
            "INSERT INTO reference_data(dataset, key, version, doc) VALUES($1, $2, 1, $3)"
            " ON CONFLICT (dataset, key) DO UPDATE SET version=reference_data.version+1, doc=excluded.doc"
            " RETURNING version",
            dataset,
            key,
            doc,
        )
        return int(version)

    async def reference_delete(self, dataset: str, key: str) -> bool:
        result = await self.conn.execute("DELETE FROM reference_data WHERE dataset=$1 AND key=$2", dataset, key)
        return bool(result) and not result.endswith(" 0")
